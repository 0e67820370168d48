import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureTopics } from "@million-rps/shared/topics";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { inject } from "vitest";
import type { ServiceEndpoints } from "../services";

declare module "vitest" {
  export interface ProvidedContext {
    services: ServiceEndpoints;
  }
}

export const TEMPLATE_DATABASE = "million_rps_template";
export const TEST_DATABASE_PREFIX = "t_";

/** Endpoints of the real Postgres, Redis and Kafka the test run started. */
export function testServices(): ServiceEndpoints {
  return inject("services");
}

export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A new migrated database of its own for one test file: isolation without truncation. */
export async function freshDatabase(): Promise<string> {
  const base = testServices().databaseUrl;
  const name = uniqueName(TEST_DATABASE_PREFIX);
  const admin = new pg.Client({ connectionString: withDatabase(base, "postgres") });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DATABASE}"`);
        break;
      } catch (err) {
        // 55006: the template is briefly in use by a concurrent clone; try again.
        if ((err as { code?: string }).code !== "55006" || attempt > 50) throw err;
        await sleep(100);
      }
    }
  } finally {
    await admin.end();
  }
  return withDatabase(base, name);
}

/** A unique Redis key prefix, so tests sharing one Redis never see each other's keys. */
export function freshKeyPrefix(): string {
  return uniqueName("t");
}

/** A unique command topic and its DLQ, created with leaders ready. */
export async function freshTopics(partitions = 3): Promise<{ topic: string; dlqTopic: string }> {
  const topic = uniqueName("todo-commands-");
  const dlqTopic = `${topic}.dlq`;
  const admin = new Kafka({
    brokers: testServices().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [
      { topic, numPartitions: partitions },
      { topic: dlqTopic, numPartitions: 1 },
    ]);
  } finally {
    await admin.disconnect();
  }
  return { topic, dlqTopic };
}
