/**
 * Warm write handler latency, excluding the Kafka acknowledgement: the real
 * handlers (JWT verification, parsing, validation, ids, envelope, encoding) with
 * an in-process sender that encodes the command as the Kafka sender does and
 * returns at once. Sequential calls, as one Lambda container serves them.
 *
 *   npx tsx write-lambdas/bench/handler-latency.ts [--iterations 20000]
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { type BenchFigure, loadAverageFigure, quantile, reportFigures } from "@million-rps/local";
import { encodeCommand } from "@million-rps/shared";
import { createLogger } from "@million-rps/shared/pino-logger";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { apiGatewayEvent, matchRoute } from "../src/adapter/api-gateway-event";
import { parseWriteConfig } from "../src/config";
import type { CommandSender } from "../src/kafka/command-sender";
import { createWriteRuntime, type WriteRuntime } from "../src/runtime";

const { values } = parseArgs({ options: { iterations: { type: "string", default: "20000" } } });
const iterations = Number(values.iterations);
const P99_TARGET_MS = 2;

/** Stands in for Kafka in this benchmark only: the encoding cost stays, the network round trip goes. */
const inProcessSender: CommandSender = {
  async send(command) {
    encodeCommand(command);
  },
  async close() {},
};
const log = createLogger("bench", { level: "error", write: () => {} });
const ID = "0190b5e2-7c4d-7a3e-8f00-123456789abc";

function eventFor(
  method: string,
  path: string,
  token: string,
  body?: string,
): APIGatewayProxyEventV2 {
  const route = matchRoute(method, path);
  if (!route.found) throw new Error(`no route for ${method} ${path}`);
  const rawHeaders = [
    "Authorization",
    `Bearer ${token}`,
    "Content-Type",
    "application/json",
    "Idempotency-Key",
    "bench-key-1",
  ];
  return apiGatewayEvent(
    {
      method,
      url: path,
      rawHeaders,
      body: Buffer.from(body ?? ""),
      sourceIp: "127.0.0.1",
      protocol: "HTTP/1.1",
    },
    route,
  );
}

async function measure(
  runtime: WriteRuntime,
  kind: "create" | "update" | "delete",
  event: APIGatewayProxyEventV2,
) {
  const handle = runtime.handlers[kind];
  const check = await handle(event);
  if (check.statusCode !== 202)
    throw new Error(`${kind} answered ${check.statusCode}: ${check.body}`);
  for (let i = 0; i < Math.min(2000, iterations); i++) await handle(event); // warm: JIT, key import
  const ms = new Float64Array(iterations);
  // CPU time of the whole process (crypto runs on libuv's pool) barely moves with other load.
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await handle(event);
    ms[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  const cpu = process.cpuUsage(cpu0);
  return { sorted: [...ms].sort((a, b) => a - b), cpuUs: (cpu.user + cpu.system) / iterations };
}

const rows: BenchFigure[] = [];
const details: Record<string, unknown> = {
  node: process.version,
  iterations,
  loadavg_before: loadavg(),
};
function record(label: string, { sorted, cpuUs }: { sorted: number[]; cpuUs: number }) {
  const [p50, p99, p999] = [0.5, 0.99, 0.999].map((q) => quantile(sorted, q));
  details[label] = {
    p50,
    p90: quantile(sorted, 0.9),
    p99,
    p999,
    max: sorted.at(-1),
    cpu_us: cpuUs,
  };
  rows.push({
    figure: `${label}: p50 / p99 / p99.9 (CPU per call)`,
    value: `${p50?.toFixed(3)} / ${p99?.toFixed(3)} / ${p999?.toFixed(3)} ms (${cpuUs.toFixed(0)} µs)`,
    target: `p99 <= ${P99_TARGET_MS} ms`,
    ok: (p99 ?? Infinity) <= P99_TARGET_MS,
  });
}

// HS256 with JWT_SECRET (local; on AWS the same key comes from Secrets Manager once per cold start).
const secret = "bench-only-fake-secret-0123456789abcdef";
const hs = createWriteRuntime(
  parseWriteConfig({ JWT_SECRET: secret, KAFKA_BROKERS: "127.0.0.1:9" }),
  { sender: inProcessSender, log },
);
const hsToken = await new SignJWT({ sub: "alice" })
  .setProtectedHeader({ alg: "HS256" })
  .setExpirationTime("1h")
  .sign(new TextEncoder().encode(secret));
record(
  "POST /todos, HS256",
  await measure(
    hs,
    "create",
    eventFor("POST", "/todos", hsToken, '{"title":"buy milk","description":"two litres"}'),
  ),
);
record(
  "PATCH /todos/{id}, HS256",
  await measure(hs, "update", eventFor("PATCH", `/todos/${ID}`, hsToken, '{"completed":true}')),
);
record(
  "DELETE /todos/{id}, HS256",
  await measure(hs, "delete", eventFor("DELETE", `/todos/${ID}`, hsToken)),
);

// RS256 from a JWKS URL (fetched once from a loopback server, then cached, as a warm container does).
const rsa = await generateKeyPair("RS256", { extractable: true });
const jwks = JSON.stringify({
  keys: [{ ...(await exportJWK(rsa.publicKey)), kid: "k1", alg: "RS256" }],
});
const idp = createServer((_req, res) =>
  res.writeHead(200, { "content-type": "application/json" }).end(jwks),
);
await new Promise<void>((resolve) => idp.listen(0, "127.0.0.1", resolve));
const rs = createWriteRuntime(
  parseWriteConfig({
    JWKS_URL: `http://127.0.0.1:${(idp.address() as AddressInfo).port}/jwks.json`,
    JWT_ISSUER: "https://idp.bench/",
    JWT_AUDIENCE: "todos",
    KAFKA_BROKERS: "127.0.0.1:9",
  }),
  { sender: inProcessSender, log },
);
const rsToken = await new SignJWT({ sub: "alice", iss: "https://idp.bench/", aud: "todos" })
  .setProtectedHeader({ alg: "RS256", kid: "k1" })
  .setExpirationTime("1h")
  .sign(rsa.privateKey);
record(
  "POST /todos, RS256 (JWKS)",
  await measure(
    rs,
    "create",
    eventFor("POST", "/todos", rsToken, '{"title":"buy milk","description":"two litres"}'),
  ),
);
idp.close();

// Tails on a shared 2-core machine are mostly other processes.
rows.push(loadAverageFigure());

reportFigures({
  name: "write-lambdas-handler",
  command: `npx tsx write-lambdas/bench/handler-latency.ts --iterations ${iterations}`,
  figures: rows,
  details,
});
