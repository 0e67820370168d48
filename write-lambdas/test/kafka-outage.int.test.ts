import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { connect, createServer as createTcpServer, type Socket } from "node:net";
import { dataDir, freePort, kafkaInstance, waitUntil } from "@million-rps/local/testing";
import { createLogger } from "@million-rps/shared/pino-logger";
import { ensureCommandTopics } from "@million-rps/shared/topics";
import { SignJWT } from "jose";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWriteServer, type WriteServer } from "../src/adapter/server";
import { topicReader } from "./kafka-support";

/**
 * Kafka down: writes answer 503 with Retry-After within the configured bound,
 * and nothing that was answered 202 is lost. Uses a PRIVATE broker that this
 * file stops and restarts (never the shared one other files use).
 */
const SEND_TIMEOUT_MS = 2000;
const secret = randomBytes(32).toString("hex");
const dir = dataDir(`test-${process.pid}`, "write-lambdas-kafka");
const topic = "todo-commands";
// kafkajs logs every refused connection during the outage; the assertions say what matters.
const log = createLogger("outage-test", { level: "error", write: () => {} });

let kafka: ReturnType<typeof kafkaInstance>;
let server: WriteServer;
let headers: Record<string, string>;

async function post(target: WriteServer, title: string) {
  const t0 = performance.now();
  const res = await fetch(`${target.url}/todos`, {
    method: "POST",
    headers,
    body: JSON.stringify({ title }),
  });
  const body = (await res.json()) as { command_id: string; error: { code: string } };
  return {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    body,
    ms: performance.now() - t0,
  };
}

function envFor(brokers: string) {
  return {
    KAFKA_BROKERS: brokers,
    KAFKA_TODO_TOPIC: topic,
    JWT_SECRET: secret,
    KAFKA_SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS),
    WRITE_RETRY_AFTER_SEC: "3",
  };
}

beforeAll(async () => {
  kafka = kafkaInstance(dir, await freePort(), await freePort());
  await kafka.start();
  await ensureCommandTopics(new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }), {
    topic,
    dlqTopic: `${topic}.dlq`,
    partitions: 3,
  });
  server = await startWriteServer({ port: 0, env: envFor(kafka.brokers.join(",")), log });
  const token = await new SignJWT({ sub: "alice" })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(secret));
  headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
}, 120_000);

afterAll(async () => {
  await server?.close();
  await kafka?.stop("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("Kafka outage", () => {
  const accepted: string[] = [];

  it("answers 202 while the broker is up", async () => {
    const res = await post(server, "before");
    expect(res.status).toBe(202);
    accepted.push(res.body.command_id);
  });

  it("answers 503 with Retry-After, in bounded time, while the broker is stopped", async () => {
    await kafka.stop();
    const answers = await Promise.all(["a", "b", "c", "d"].map((t) => post(server, `during-${t}`)));
    for (const res of answers) {
      expect(res.status).toBe(503);
      expect(res.retryAfter).toBe("3");
      expect(res.body.error.code).toBe("unavailable");
      // Bounded by KAFKA_SEND_TIMEOUT_MS, with slack for a loaded machine: well inside API Gateway's 30 s.
      expect(res.ms).toBeLessThan(SEND_TIMEOUT_MS + 3000);
    }
    const again = await post(server, "during-again");
    expect([again.status, again.retryAfter]).toEqual([503, "3"]);
  }, 60_000);

  it("answers 202 again once the broker is back, and every 202 is on the topic", async () => {
    await kafka.start();
    await waitUntil(
      "a write accepted after the restart",
      async () => {
        const res = await post(server, "after");
        if (res.status === 202) accepted.push(res.body.command_id);
        else expect(res.status).toBe(503);
        return res.status === 202;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const reader = await topicReader(kafka.brokers, topic);
    try {
      await waitUntil("all accepted commands on the topic", () => {
        const onTopic = new Set(reader.received.map((r) => JSON.parse(r.value ?? "{}").command_id));
        return accepted.every((id) => onTopic.has(id));
      });
    } finally {
      await reader.stop();
    }
    expect(accepted.length).toBe(2);
  }, 120_000);

  it("answers 503 in bounded time when Kafka was never reachable (cold container)", async () => {
    const cold = await startWriteServer({
      port: 0,
      env: envFor(`127.0.0.1:${await freePort()}`),
      log,
    });
    try {
      const res = await post(cold, "never");
      expect([res.status, res.retryAfter]).toEqual([503, "3"]);
      expect(res.ms).toBeLessThan(SEND_TIMEOUT_MS + 3000);
    } finally {
      await cold.close();
    }
  });

  it("takes the first write once Kafka is reachable, though it was not when the process started", async () => {
    // The adapter connects at start; that attempt failing must not fail the first write.
    const port = await freePort();
    const lines: string[] = [];
    const watched = createLogger("outage-test", { level: "warn", write: (l) => lines.push(l) });
    const late = await startWriteServer({
      port: 0,
      // One producer, so the failure waited for is the one the write would go through.
      env: { ...envFor(`127.0.0.1:${port}`), KAFKA_PRODUCERS: "1" },
      log: watched,
    });
    // Bootstrap only: the broker's metadata sends the client on to its own port.
    const [host, brokerPort] = (kafka.brokers[0] as string).split(":");
    const links: Socket[] = [];
    const bootstrap = createTcpServer((client) => {
      const upstream = connect(Number(brokerPort), host);
      links.push(client, upstream);
      for (const s of [client, upstream]) s.on("error", () => {});
      client.pipe(upstream).pipe(client);
    });
    try {
      await waitUntil("the failed connection ahead of the first write", () =>
        lines.some((l) => l.includes("ahead of the first write")),
      );
      await new Promise<void>((resolve) => bootstrap.listen(port, "127.0.0.1", resolve));
      const res = await post(late, "after a start without Kafka");
      expect(res.status).toBe(202);
    } finally {
      await late.close();
      for (const s of links) s.destroy();
      await new Promise((resolve) => bootstrap.close(resolve));
    }
  }, 60_000);

  it("answers 503 in bounded time when the broker accepts connections but never answers", async () => {
    // A black hole: TCP connects, Kafka requests go unanswered (a hung or partitioned broker).
    const sockets: Socket[] = [];
    const hole = createTcpServer((socket) => {
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => hole.listen(0, "127.0.0.1", resolve));
    const port = (hole.address() as { port: number }).port;
    const hung = await startWriteServer({ port: 0, env: envFor(`127.0.0.1:${port}`), log });
    try {
      const res = await post(hung, "into the void");
      expect([res.status, res.retryAfter, res.body.error.code]).toEqual([503, "3", "unavailable"]);
      expect(res.ms).toBeLessThan(SEND_TIMEOUT_MS + 3000);
    } finally {
      await hung.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hole.close(resolve));
    }
  });
});
