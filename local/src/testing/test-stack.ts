import { rmSync } from "node:fs";
import { mintDevToken } from "@million-rps/shared/dev-token";
import { dataDir } from "../paths";
import { freshDatabase, freshKeyPrefix, freshTopics, testServices } from "./fixtures";
import {
  type Stack,
  type StackOptions,
  type StackServices,
  seedAndPublish,
  startStack,
} from "./stack";

/** An obviously fake HS256 secret for the stacks tests start. */
export const TEST_JWT_SECRET = "test-only-fake-secret-not-real-0123456789abcdef";

export interface TestStackOptions extends Omit<StackOptions, "profile" | "jwt"> {
  /** Names the log folder: `.data/test-<pid>-<name>/logs`. */
  name: string;
  /** Defaults to `{ JWT_SECRET: TEST_JWT_SECRET }`. */
  jwt?: Readonly<Record<string, string>>;
  /** Seeded todos (deterministic rows, see shared/src/seed.ts), published as a generation before the apps start. */
  seed?: number;
  partitions?: number;
}

export interface TestStack extends Stack {
  readonly services: StackServices;
  /** An HS256 token for `sub` signed with TEST_JWT_SECRET, valid for 10 minutes. */
  token(sub: string): Promise<string>;
  /** Stops the apps and removes the log folder (KEEP_TEST_LOGS=1 keeps it, to read after a failure). */
  stop(): Promise<void>;
}

/**
 * The native stack on the test run's services, with a fresh database, fresh
 * topics and a fresh key prefix of its own: what e2e, contract and bad-input
 * tests start in `beforeAll`.
 */
export async function startTestStack(options: TestStackOptions): Promise<TestStack> {
  const shared = testServices();
  const [databaseUrl, topics] = await Promise.all([
    freshDatabase(),
    freshTopics(options.partitions ?? 3),
  ]);
  const services: StackServices = {
    databaseUrl,
    redisUrl: shared.redisUrl,
    kafkaBrokers: shared.kafkaBrokers,
    topic: topics.topic,
    dlqTopic: topics.dlqTopic,
    keyPrefix: freshKeyPrefix(),
  };
  if (options.seed !== undefined && options.seed > 0) await seedAndPublish(services, options.seed);
  const profile = `test-${process.pid}-${options.name}`;
  const stack = await startStack(services, {
    ...options,
    profile,
    jwt: options.jwt ?? { JWT_SECRET: TEST_JWT_SECRET },
  });
  return {
    ...stack,
    services,
    token: (sub) => mintDevToken(sub, { secret: TEST_JWT_SECRET, ttlSec: 600 }),
    async stop() {
      await stack.stop();
      if (!process.env.KEEP_TEST_LOGS) rmSync(dataDir(profile), { recursive: true, force: true });
    },
  };
}
