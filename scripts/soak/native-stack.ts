import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import {
  ensureCommandTopics,
  freePort,
  type RunningServices,
  repoRoot,
  type Stack,
  type StackOptions,
  seedAndPublish,
  startServices,
  startStack,
} from "@million-rps/local";
import { migrate } from "@million-rps/shared";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";

/**
 * The whole native stack for a script (schemathesis, soak): PRIVATE Postgres,
 * Redis and Kafka on free ports under `.data/<area>/` (never a developer's
 * running services, because the soak kills them), migrated, topics created,
 * seeded, then the worker, the write adapter and the read fleet.
 */

export interface NativeStackOptions {
  /** `.data/<area>/`: where the private services and the app logs live. */
  area: string;
  seed: number;
  partitions: number;
  readWorkers: number;
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
  readonly readWorkers: number;
  /** Where the app logs are. */
  readonly logDir: string;
  stop(): Promise<void>;
}

/** `MRPS_DATA_DIR=.data/<area>`, reusing the Kafka jars already resolved under `.data/`. */
function useDataArea(area: string): void {
  const root = join(repoRoot, ".data");
  const dir = join(root, area);
  mkdirSync(dir, { recursive: true });
  const jars = join(dir, "kafka-jars");
  mkdirSync(join(root, "kafka-jars"), { recursive: true });
  if (!existsSync(jars)) symlinkSync(join(root, "kafka-jars"), jars);
  process.env.MRPS_DATA_DIR = dir;
}

export async function launchNativeStack(options: NativeStackOptions): Promise<NativeStack> {
  const progress = options.onProgress ?? (() => {});
  useDataArea(options.area);
  const [pgPort, redisPort, kafkaPort] = await Promise.all([freePort(), freePort(), freePort()]);
  // Explicit loopback endpoints where nothing listens: the harness starts private instances there.
  const services = await startServices({
    profile: "test",
    env: {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/million_rps`,
      REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
      KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
    },
    onProgress: progress,
  });
  const { databaseUrl, redisUrl, kafkaBrokers } = services.endpoints;
  const topic = "todo-commands";
  const dlqTopic = `${topic}.dlq`;
  const keyPrefix = "todos";
  let stack: Stack | undefined;
  try {
    progress("migrating");
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    try {
      await migrate(pool);
    } finally {
      await pool.end();
    }
    progress(`creating topics (${options.partitions} partitions)`);
    const kafka = new Kafka({ brokers: [...kafkaBrokers], logLevel: logLevel.NOTHING });
    await ensureCommandTopics(kafka, { topic, dlqTopic, partitions: options.partitions });
    const stackServices = { databaseUrl, redisUrl, kafkaBrokers, topic, dlqTopic, keyPrefix };
    progress(`seeding ${options.seed} todos`);
    await seedAndPublish(stackServices, options.seed);
    progress("starting the worker, the write adapter and the read fleet");
    stack = await startStack(stackServices, {
      profile: `apps-${process.pid}`,
      jwt: { JWT_SECRET: options.jwtSecret },
      readWorkers: options.readWorkers,
      ...(options.env && { env: options.env }),
      ...(options.appEnv && { appEnv: options.appEnv }),
      ...(options.onUnexpectedExit && { onUnexpectedExit: options.onUnexpectedExit }),
    });
  } catch (err) {
    await services.stop();
    throw err;
  }
  const started = stack;
  return {
    services,
    stack: started,
    databaseUrl,
    redisUrl,
    kafkaBrokers,
    topic,
    readWorkers: options.readWorkers,
    logDir: join(process.env.MRPS_DATA_DIR ?? "", `apps-${process.pid}`, "logs"),
    async stop() {
      await started.stop();
      await services.stop();
    },
  };
}
