import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { migrate } from "@million-rps/shared/migrations";
import { ensureCommandTopics } from "@million-rps/shared/topics";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { StopRequested } from "./errors";
import { stopStrays } from "./leftovers";
import { repoRoot } from "./paths";
import { freePort } from "./proc";
import { type RunningServices, serviceSet } from "./services";
import { Teardown, throwIfStopping } from "./teardown";
import { type Stack, type StackOptions, seedAndPublish, startStack } from "./testing/stack";

/**
 * The whole native stack for a script (schemathesis, soak): PRIVATE Postgres,
 * Redis and Kafka on free ports under `.data/<area>/` (never a developer's
 * running services, because the soak kills them), migrated, topics created,
 * seeded, then the worker, the write adapter and the read fleet. A stop at any
 * moment of the launch stops what was started or is starting; a later launch
 * stops what an earlier one that was killed left behind (the harness's leftovers).
 */

export interface NativeStackOptions {
  /** `.data/<area>/`: where the private services and the app logs live. */
  area: string;
  seed: number;
  partitions: number;
  readProcesses: number;
  jwtSecret: string;
  env?: StackOptions["env"];
  appEnv?: StackOptions["appEnv"];
  onProgress?: (message: string) => void;
  onUnexpectedExit?: StackOptions["onUnexpectedExit"];
}

export interface NativeStack {
  readonly services: RunningServices;
  readonly stack: Stack;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly kafkaBrokers: readonly string[];
  readonly topic: string;
  readonly readProcesses: number;
  /** `.data/<area>/`: every process of this stack carries a MRPS_PART_DIR under it. */
  readonly root: string;
  /** Where the app logs are. */
  readonly logDir: string;
  stop(): Promise<void>;
}

/** `MRPS_DATA_DIR=.data/<area>`, reusing the Kafka jars already resolved under `.data/`. */
function useDataArea(area: string): string {
  const root = join(repoRoot, ".data");
  const dir = join(root, area);
  mkdirSync(dir, { recursive: true });
  const jars = join(dir, "kafka-jars");
  mkdirSync(join(root, "kafka-jars"), { recursive: true });
  if (!existsSync(jars)) symlinkSync(join(root, "kafka-jars"), jars);
  process.env.MRPS_DATA_DIR = dir;
  return dir;
}

/** A native stack being launched, which can be stopped at any moment, even halfway through `launch`. */
export interface NativeStackLaunch {
  /** Starts everything (once); rejects with StopRequested when `stop` was called meanwhile. */
  launch(): Promise<NativeStack>;
  /** Stops whatever was started or is starting, apps first, and waits for it. */
  stop(): Promise<void>;
}

export function nativeStack(options: NativeStackOptions): NativeStackLaunch {
  const progress = options.onProgress ?? (() => {});
  const root = useDataArea(options.area);
  const teardown = new Teardown();
  // Undone last: anything of this process's still running under the area (caught mid-spawn).
  teardown.add("anything else", (o) => stopStrays(root, o));
  let launching: Promise<NativeStack> | undefined;

  async function launch(): Promise<NativeStack> {
    const [pgPort, redisPort, kafkaPort] = await Promise.all([freePort(), freePort(), freePort()]);
    // Explicit loopback endpoints where nothing listens: the harness starts private instances there.
    const services = serviceSet({
      profile: "test",
      dataRoot: root,
      env: {
        DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/million_rps`,
        REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
        KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
      },
      onProgress: progress,
    });
    teardown.add("services", (o) => services.stop(o));
    throwIfStopping(teardown.signal);
    const running = await services.start();
    const { databaseUrl, redisUrl, kafkaBrokers } = running.endpoints;
    const topic = "todo-commands";
    const dlqTopic = `${topic}.dlq`;
    const keyPrefix = "todos";
    progress("migrating");
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    try {
      await migrate(pool);
    } finally {
      await pool.end();
    }
    throwIfStopping(teardown.signal);
    progress(`creating topics (${options.partitions} partitions)`);
    const kafka = new Kafka({ brokers: [...kafkaBrokers], logLevel: logLevel.NOTHING });
    await ensureCommandTopics(kafka, { topic, dlqTopic, partitions: options.partitions });
    const stackServices = { databaseUrl, redisUrl, kafkaBrokers, topic, dlqTopic, keyPrefix };
    throwIfStopping(teardown.signal);
    progress(`seeding ${options.seed} todos`);
    await seedAndPublish(stackServices, options.seed);
    throwIfStopping(teardown.signal);
    progress("starting the worker, the write adapter and the read fleet");
    const starting = startStack(stackServices, {
      profile: `apps-${process.pid}`,
      jwt: { JWT_SECRET: options.jwtSecret },
      readProcesses: options.readProcesses,
      signal: teardown.signal,
      ...(options.env && { env: options.env }),
      ...(options.appEnv && { appEnv: options.appEnv }),
      ...(options.onUnexpectedExit && { onUnexpectedExit: options.onUnexpectedExit }),
    });
    // startStack stops what it started when it fails or is stopped midway; once up, this stops it.
    teardown.add("apps", async () => {
      const stack = await starting.catch(() => undefined);
      await stack?.stop();
      return [];
    });
    const stack = await starting;
    return {
      services: running,
      stack,
      databaseUrl,
      redisUrl,
      kafkaBrokers,
      topic,
      readProcesses: options.readProcesses,
      root,
      logDir: join(root, `apps-${process.pid}`, "logs"),
      stop,
    };
  }

  async function stop(): Promise<void> {
    const report = await teardown.run();
    if (report.failed.length > 0) {
      throw new Error(
        `could not stop ${report.failed.map((f) => `${f.part} (${f.error.message})`).join(", ")}`,
      );
    }
  }

  return {
    launch: () => {
      launching ??= launch().catch(async (err: unknown) => {
        // Whatever failed, nothing of a half-launched stack stays up.
        await stop().catch(() => {});
        throw teardown.requested ? new StopRequested() : err;
      });
      return launching;
    },
    stop,
  };
}

/** Launches a native stack; a failure leaves nothing of it running. */
export function launchNativeStack(options: NativeStackOptions): Promise<NativeStack> {
  return nativeStack(options).launch();
}
