import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "@million-rps/local";
import { pipelinedCase, wholeFleetCase } from "./fleet-cases";
import { Measurements } from "./measure";
import { type Comparison, compare, summarize } from "./report";
import { fetchRaw, freePort } from "./servers";
import { settings } from "./settings";
import { type Stack, storeRawPage } from "./stack";

const MAIN = join(repoRoot, "read-fleet/src/main.ts");
const GZIP = { "Accept-Encoding": "gzip" };

/** Every case of the quality brief, side by side in one run. */
export async function runCases(stack: Stack, workDir: string) {
  const m = new Measurements(join(workDir, "logs"), [stack.redisPid]);
  try {
    const fleetEnv = (port: number, processes: number) => ({
      HTTP_PORT: String(port),
      HTTP_HOST: "127.0.0.1",
      DATABASE_URL: stack.databaseUrl,
      REDIS_URL: stack.redisUrl,
      CACHE_KEY_PREFIX: settings.keyPrefix,
      CACHE_TTL_SEC: "3600",
      READ_PROCESSES: String(processes),
      LOG_LEVEL: "warn",
    });
    const port = await freePort();
    const adminPort = await freePort();
    const fleet = await m.start(
      "fleet-1-process",
      MAIN,
      {
        ...fleetEnv(port, 1),
        ADMIN_PORT: String(adminPort),
      },
      { port },
    );

    // The references serve byte-identical bodies, taken from the fleet itself.
    const identity = (await fetchRaw(port, settings.path)).body;
    const gzipped = await fetchRaw(port, settings.path, { "accept-encoding": "gzip" });
    const identityFile = join(workDir, "page.json");
    const gzipFile = join(workDir, "page.json.gz");
    writeFileSync(identityFile, identity);
    writeFileSync(gzipFile, gzipped.body);
    await storeRawPage(stack, identity);
    const redisRef = { REDIS_URL: stack.redisUrl, PAGE_KEY: stack.rawPageKey };

    for (let round = 1; round <= settings.rounds; round++) {
      m.round = round;
      await m.withServer("bare-uws-identity", "bare-uws.ts", { BODY_FILE: identityFile }, (s) =>
        m.measure("bare uWS, identity", s, m.wrk(s.port), "reference: one prebuilt Buffer"),
      );
      await m.measure("fleet 1 process, identity", fleet, m.wrk(port));
      await m.withServer(
        "bare-uws-gzip",
        "bare-uws.ts",
        { BODY_FILE: gzipFile, BODY_ENCODING: "gzip" },
        (s) =>
          m.measure(
            "bare uWS, gzip",
            s,
            m.wrk(s.port, { headers: GZIP }),
            "reference: one prebuilt gzip Buffer",
          ),
      );
      await m.measure(
        "fleet 1 process, gzip",
        fleet,
        m.wrk(port, { headers: GZIP }),
        "Accept-Encoding: gzip",
      );
      await m.measure(
        "fleet 1 process, gzip+br",
        fleet,
        m.wrk(port, { headers: { "Accept-Encoding": "gzip, br" } }),
        "Accept-Encoding: gzip, br (answers br)",
      );
      await m.measure(
        "fleet 1 process, 304",
        fleet,
        m.wrk(port, { headers: { ...GZIP, "If-None-Match": String(gzipped.headers.etag) } }),
        "If-None-Match hit",
      );
      await m.withServer("fastify-ioredis", "fastify-redis.ts", redisRef, (s) =>
        m.measure("Fastify + ioredis", s, m.wrk(s.port), "reference: getBuffer per request"),
      );
      await m.withServer("uws-ioredis", "uws-redis.ts", redisRef, (s) =>
        m.measure("uWS + ioredis", s, m.wrk(s.port), "reference: the seed's design"),
      );
    }

    m.round = 1;
    const pipelined = await pipelinedCase(m, fleet, port, adminPort);
    await m.stop(fleet);
    await wholeFleetCase(m, MAIN, fleetEnv);

    const summary = summarize(m.cases);

    const comparisons = [
      compare(
        m.cases,
        "fleet vs bare uWS, identity",
        "fleet 1 process, identity",
        "bare uWS, identity",
        0.9,
      ),
      compare(m.cases, "fleet vs bare uWS, gzip", "fleet 1 process, gzip", "bare uWS, gzip", 0.9),
      compare(
        m.cases,
        "fleet (gzip, br: answers br) vs bare uWS gzip",
        "fleet 1 process, gzip+br",
        "bare uWS, gzip",
        0.9,
      ),
      compare(
        m.cases,
        "fleet vs Fastify + ioredis",
        "fleet 1 process, identity",
        "Fastify + ioredis",
        4.5,
      ),
      compare(m.cases, "fleet vs uWS + ioredis", "fleet 1 process, identity", "uWS + ioredis", 2.5),
    ].filter((c): c is Comparison => c !== null);
    return {
      cases: summary,
      rounds: m.cases,
      comparisons,
      pipelined,
      bodyBytes: { identity: identity.length, gzip: gzipped.body.length },
    };
  } finally {
    await m.stopAll();
  }
}
