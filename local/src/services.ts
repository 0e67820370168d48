import { rmSync } from "node:fs";
import pg from "pg";
import { type KafkaInstance, kafkaInstance } from "./kafka";
import { dataDir } from "./paths";
import { DATABASE_NAME, type PostgresInstance, postgresInstance } from "./postgres";
import { canConnect, freePort } from "./proc";
import { type RedisInstance, redisInstance } from "./redis";

export type ServiceName = "postgres" | "redis" | "kafka";
export const SERVICE_NAMES: readonly ServiceName[] = ["postgres", "redis", "kafka"];

export interface ServiceEndpoints {
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string[];
}

export interface ServiceReport {
  name: ServiceName;
  /** `external`: configured and reachable, used as is; `started`: a private instance we run. */
  mode: "external" | "started";
  endpoint: string;
  ms: number;
}

export interface RunningServices {
  readonly endpoints: ServiceEndpoints;
  readonly reports: readonly ServiceReport[];
  readonly instances: { postgres?: PostgresInstance; redis?: RedisInstance; kafka?: KafkaInstance };
  /** Stops what this harness started, and nothing else. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** `dev` keeps its data and uses the configured (default) ports; `test` uses free ports and a fresh broker. */
  profile: "dev" | "test";
  env?: Readonly<Record<string, string | undefined>>;
  only?: readonly ServiceName[];
  onProgress?: (msg: string) => void;
}

const DEV_DEFAULTS = {
  databaseUrl: `postgres://postgres@127.0.0.1:55432/${DATABASE_NAME}`,
  redisUrl: "redis://127.0.0.1:56379/0",
  kafkaBrokers: "127.0.0.1:59092",
};

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

function hostPort(endpoint: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(endpoint.includes("://") ? endpoint : `tcp://${endpoint}`);
  return { host: u.hostname, port: u.port === "" ? defaultPort : Number(u.port) };
}

class ServiceStartError extends Error {
  override name = "ServiceStartError";
}

/**
 * Brings up Postgres, Redis and Kafka for a local run or a test run. Each one is
 * taken from DATABASE_URL / REDIS_URL / KAFKA_BROKERS when that is reachable;
 * otherwise, if it points at this machine (or is unset), a private instance is
 * started on that port from local binaries, under `.data/<profile>/`.
 */
export async function startServices(options: StartOptions): Promise<RunningServices> {
  const env = options.env ?? process.env;
  const wanted = options.only ?? SERVICE_NAMES;
  const progress = options.onProgress ?? (() => {});
  const started: { stop(): Promise<void> }[] = [];
  const instances: RunningServices["instances"] = {};
  const reports: ServiceReport[] = [];
  const endpoints: ServiceEndpoints = {
    databaseUrl: env.DATABASE_URL ?? DEV_DEFAULTS.databaseUrl,
    redisUrl: env.REDIS_URL ?? DEV_DEFAULTS.redisUrl,
    kafkaBrokers: (env.KAFKA_BROKERS ?? DEV_DEFAULTS.kafkaBrokers).split(",").map((s) => s.trim()),
  };

  async function portFor(
    configured: string | undefined,
    endpoint: string,
    defaultPort: number,
  ): Promise<number | null> {
    // The test profile never adopts the dev stack's default ports: a test run must not
    // write into the database `npm start` is serving. Only a configured endpoint is used.
    if (options.profile === "test" && configured === undefined) return freePort();
    const { host, port } = hostPort(endpoint, defaultPort);
    if (await canConnect(host, port)) return null; // reachable: use it as configured
    if (!LOOPBACK.has(host)) {
      throw new ServiceStartError(
        `${endpoint} is not reachable and is not on this machine, so no private instance can stand in for it`,
      );
    }
    // An unreachable loopback endpoint gets a private instance on its port.
    return port;
  }

  // Each test run gets data directories of its own, so parallel runs never share a cluster.
  const profileDir = options.profile === "test" ? `test-${process.pid}` : "dev";
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => {});
    started.length = 0;
    if (options.profile === "test") rmSync(dataDir(profileDir), { recursive: true, force: true });
  };

  try {
    const tasks: Promise<void>[] = [];
    if (wanted.includes("postgres")) {
      tasks.push(
        (async () => {
          const t0 = Date.now();
          const port = await portFor(env.DATABASE_URL, endpoints.databaseUrl, 5432);
          if (port === null) {
            reports.push({
              name: "postgres",
              mode: "external",
              endpoint: redact(endpoints.databaseUrl),
              ms: Date.now() - t0,
            });
            return;
          }
          progress(`starting Postgres on 127.0.0.1:${port}`);
          const instance = postgresInstance(dataDir(profileDir, "postgres"), port);
          started.push(instance);
          await instance.start();
          await ensureDatabase(
            instance.url,
            endpoints.databaseUrl,
            options.profile === "test" || env.DATABASE_URL === undefined,
          );
          instances.postgres = instance;
          if (options.profile === "test" || env.DATABASE_URL === undefined)
            endpoints.databaseUrl = instance.url;
          reports.push({
            name: "postgres",
            mode: "started",
            endpoint: endpoints.databaseUrl,
            ms: Date.now() - t0,
          });
        })(),
      );
    }
    if (wanted.includes("redis")) {
      tasks.push(
        (async () => {
          const t0 = Date.now();
          const port = await portFor(env.REDIS_URL, endpoints.redisUrl, 6379);
          if (port === null) {
            reports.push({
              name: "redis",
              mode: "external",
              endpoint: redact(endpoints.redisUrl),
              ms: Date.now() - t0,
            });
            return;
          }
          progress(`starting Redis on 127.0.0.1:${port}`);
          const instance = redisInstance(dataDir(profileDir, "redis"), port);
          started.push(instance);
          await instance.start();
          instances.redis = instance;
          const db = new URL(endpoints.redisUrl).pathname.replace("/", "") || "0";
          endpoints.redisUrl = `redis://127.0.0.1:${port}/${options.profile === "test" ? "0" : db}`;
          reports.push({
            name: "redis",
            mode: "started",
            endpoint: endpoints.redisUrl,
            ms: Date.now() - t0,
          });
        })(),
      );
    }
    if (wanted.includes("kafka")) {
      tasks.push(
        (async () => {
          const t0 = Date.now();
          const first = endpoints.kafkaBrokers[0] ?? DEV_DEFAULTS.kafkaBrokers;
          const port = await portFor(env.KAFKA_BROKERS, first, 9092);
          if (port === null) {
            reports.push({
              name: "kafka",
              mode: "external",
              endpoint: endpoints.kafkaBrokers.join(","),
              ms: Date.now() - t0,
            });
            return;
          }
          const dir = dataDir(profileDir, "kafka");
          const controllerPort = options.profile === "test" ? await freePort() : port + 1;
          progress(`starting Kafka ${"3.9"} (KRaft) on 127.0.0.1:${port}`);
          const instance = kafkaInstance(dir, port, controllerPort);
          started.push(instance);
          await instance.start();
          instances.kafka = instance;
          endpoints.kafkaBrokers = instance.brokers;
          reports.push({
            name: "kafka",
            mode: "started",
            endpoint: instance.brokers.join(","),
            ms: Date.now() - t0,
          });
        })(),
      );
    }
    const results = await Promise.allSettled(tasks);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failures.length > 0) {
      throw new ServiceStartError(
        failures
          .map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason)))
          .join("\n"),
      );
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { endpoints, reports, instances, stop: stopAll };
}

/** Creates the role and database a configured loopback DATABASE_URL names, on our private cluster. */
async function ensureDatabase(
  instanceUrl: string,
  configuredUrl: string,
  useInstanceUrl: boolean,
): Promise<void> {
  if (useInstanceUrl) return;
  const want = new URL(configuredUrl);
  const database = decodeURIComponent(want.pathname.replace(/^\//, "")) || DATABASE_NAME;
  const user = decodeURIComponent(want.username) || "postgres";
  const admin = new pg.Client({
    connectionString: instanceUrl.replace(`/${DATABASE_NAME}`, "/postgres"),
  });
  await admin.connect();
  try {
    const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;
    const role = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [user]);
    if (role.rowCount === 0) await admin.query(`CREATE ROLE ${ident(user)} LOGIN`);
    const db = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (db.rowCount === 0)
      await admin.query(`CREATE DATABASE ${ident(database)} OWNER ${ident(user)}`);
  } finally {
    await admin.end();
  }
}

/** Hides a password in a URL for logs and reports. */
export function redact(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return endpoint;
  }
}
