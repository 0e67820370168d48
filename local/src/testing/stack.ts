import { readdirSync, readFileSync } from "node:fs";
import { cacheKeys, DEFAULT_HOT_PAGES, refreshGeneration } from "@million-rps/shared";
import { seedTodos } from "@million-rps/shared/seed";
import { Redis } from "ioredis";
import pg from "pg";
import { type AppSpec, answers200, launchApp, type RunningApp } from "../apps";
import { freePort, isAlive } from "../proc";
import { throwIfStopping } from "../teardown";

/**
 * The whole native stack as `npm start` runs it (worker, write adapter, read
 * fleet as child processes), on services someone else started. Used by the
 * integration tests, the schemathesis launcher and the soak; free of Vitest so
 * plain scripts can import it.
 */

export type StackAppName = "worker" | "write-api" | "read-fleet";
const START_ORDER: readonly StackAppName[] = ["worker", "write-api", "read-fleet"];

/** What the three apps share: the services, and this stack's own topics and key prefix. */
export interface StackServices {
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: readonly string[];
  topic: string;
  dlqTopic: string;
  keyPrefix: string;
}

export interface StackOptions {
  /** Logs go to `.data/<profile>/logs/<app>.log`. */
  profile: string;
  /** JWT settings of the write API, e.g. `{ JWT_SECRET }` or `{ JWKS_URL, JWT_ISSUER, JWT_AUDIENCE }`. */
  jwt: Readonly<Record<string, string>>;
  readProcesses?: number;
  /** Extra environment for every app (e.g. LOG_LEVEL, KAFKA_SEND_TIMEOUT_MS). */
  env?: Readonly<Record<string, string>>;
  /** Extra environment per app. */
  appEnv?: Partial<Record<StackAppName, Readonly<Record<string, string>>>>;
  /** Called when an app exits while the stack did not ask it to. */
  onUnexpectedExit?: (name: StackAppName, code: number | null) => void;
  /** Aborted: stop starting apps (the ones already started are stopped, and startStack rejects). */
  signal?: AbortSignal;
}

export interface Stack {
  readonly readUrl: string;
  readonly writeUrl: string;
  readonly readAdminUrl: string;
  readonly workerAdminUrl: string;
  /** The environment the apps share (services, topic, key prefix, JWT). */
  readonly env: Readonly<Record<string, string>>;
  app(name: StackAppName): RunningApp;
  /** Starts a stopped or killed app again, same ports and environment; resolves once it is ready. */
  start(name: StackAppName): Promise<void>;
  /** Sends `signal` to the app's process and waits until it has exited. */
  kill(name: StackAppName, signal: NodeJS.Signals): Promise<void>;
  /** Pids of the read fleet's worker processes (children of its supervisor), sorted. */
  readProcessPids(): number[];
  /** Stops every app (SIGTERM, then SIGKILL), read fleet first. */
  stop(): Promise<void>;
}

/** Pids of the live processes whose parent is `parent` (from /proc; Linux only). */
export function childPids(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name, which is in parentheses and may contain spaces.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && Number(fields[1]) === parent) out.push(Number(entry));
    } catch {} // the process ended while we looked
  }
  return out.sort((a, b) => a - b);
}

/**
 * Pids of the read fleet's worker processes: children of its supervisor that the
 * supervisor forked with READ_FLEET_ROLE=process. Other children are left out, such
 * as the esbuild service tsx spawns while its transform cache is cold.
 */
export function readFleetProcessPids(supervisor: number): number[] {
  return childPids(supervisor).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, "utf8")
        .split("\0")
        .includes("READ_FLEET_ROLE=process");
    } catch {
      return false; // ended while we looked
    }
  });
}

export async function startStack(services: StackServices, options: StackOptions): Promise<Stack> {
  const [readPort, readAdmin, writePort, workerAdmin] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const readUrl = `http://127.0.0.1:${readPort}`;
  const writeUrl = `http://127.0.0.1:${writePort}`;
  const readAdminUrl = `http://127.0.0.1:${readAdmin}`;
  const workerAdminUrl = `http://127.0.0.1:${workerAdmin}`;
  const env: Record<string, string> = {
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    KAFKA_BROKERS: services.kafkaBrokers.join(","),
    KAFKA_TODO_TOPIC: services.topic,
    KAFKA_DLQ_TOPIC: services.dlqTopic,
    KAFKA_GROUP_ID: `workers-${services.topic}`,
    CACHE_KEY_PREFIX: services.keyPrefix,
    LOG_LEVEL: "warn",
    ...options.jwt,
    ...options.env,
  };
  const specs: Record<StackAppName, AppSpec> = {
    worker: {
      name: "worker",
      entry: "worker/src/main.ts",
      env: { ...env, ADMIN_PORT: String(workerAdmin), ...options.appEnv?.worker },
      ready: () => answers200(`${workerAdminUrl}/healthz`),
    },
    "write-api": {
      name: "write-api",
      entry: "write-lambdas/src/adapter/main.ts",
      env: { ...env, WRITE_HTTP_PORT: String(writePort), ...options.appEnv?.["write-api"] },
      ready: () => answers200(`${writeUrl}/healthz`),
    },
    "read-fleet": {
      name: "read-fleet",
      entry: "read-fleet/src/main.ts",
      env: {
        ...env,
        HTTP_PORT: String(readPort),
        ADMIN_PORT: String(readAdmin),
        READ_PROCESSES: String(options.readProcesses ?? 2),
        ...options.appEnv?.["read-fleet"],
      },
      ready: () => answers200(`${readUrl}/readyz`),
    },
  };
  const running = new Map<StackAppName, RunningApp>();
  /** Apps we are stopping or killing on purpose: their exit is expected. */
  const expectedExit = new Set<StackAppName>();

  async function start(name: StackAppName): Promise<void> {
    const previous = running.get(name);
    if (previous?.child.pid !== undefined && isAlive(previous.child.pid)) {
      throw new Error(`${name} is still running (pid ${previous.child.pid})`);
    }
    throwIfStopping(options.signal);
    expectedExit.delete(name);
    const app = launchApp(specs[name], options.profile, (code) => {
      if (!expectedExit.has(name) && running.get(name) === app)
        options.onUnexpectedExit?.(name, code);
    });
    // Known from the moment its process exists, so a stop meanwhile stops it too.
    running.set(name, app);
    try {
      await app.ready(options.signal);
    } catch (err) {
      expectedExit.add(name);
      await app.stop();
      throw err;
    }
  }

  function app(name: StackAppName): RunningApp {
    const found = running.get(name);
    if (found === undefined) throw new Error(`${name} was never started`);
    return found;
  }

  async function kill(name: StackAppName, signal: NodeJS.Signals): Promise<void> {
    const { child } = app(name);
    expectedExit.add(name);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
  }

  async function stop(): Promise<void> {
    for (const name of [...START_ORDER].reverse()) {
      const found = running.get(name);
      if (found === undefined) continue;
      expectedExit.add(name);
      await found.stop();
    }
  }

  try {
    for (const name of START_ORDER) await start(name);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    readUrl,
    writeUrl,
    readAdminUrl,
    workerAdminUrl,
    env,
    app,
    start,
    kill,
    readProcessPids: () => {
      const pid = running.get("read-fleet")?.child.pid;
      return pid === undefined ? [] : readFleetProcessPids(pid);
    },
    stop,
  };
}

/** Seeds `count` todos and publishes a generation whose hot page is in Redis, as `npm start` does. */
export async function seedAndPublish(services: StackServices, count: number): Promise<void> {
  const pool = new pg.Pool({ connectionString: services.databaseUrl, max: 2 });
  const redis = new Redis(services.redisUrl);
  try {
    await seedTodos(pool, count);
    await refreshGeneration({
      redis,
      db: pool,
      keys: cacheKeys(services.keyPrefix),
      hotPages: DEFAULT_HOT_PAGES,
      ttlSec: 300,
    });
  } finally {
    await pool.end();
    redis.disconnect();
  }
}
