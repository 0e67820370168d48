import type { Context } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { event, JSON_TYPE } from "./support";

function lambdaContext(awsRequestId: string): Context {
  return {
    awsRequestId,
    callbackWaitsForEmptyEventLoop: false,
    functionName: "million-rps-CreateTodo",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:million-rps-CreateTodo",
    memoryLimitInMB: "512",
    logGroupName: "/aws/lambda/million-rps-CreateTodo",
    logStreamName: "stream",
    getRemainingTimeInMillis: () => 10_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** The JSON lines written to stdout while `run` runs (Powertools' Logger and EMF both go there). */
async function stdoutLines(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
    return true;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return chunks
    .join("")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * The Lambda entry files themselves: config parsed at module init from the
 * environment, nothing connected until a write gets past validation.
 */
describe("Lambda entry files", () => {
  const KEYS = ["JWT_SECRET", "KAFKA_BROKERS", "LOG_LEVEL"] as const;
  const saved = KEYS.map((k) => [k, process.env[k]] as const);
  beforeEach(() => {
    vi.resetModules();
    // Nothing listens on port 9: a test that reached Kafka would fail with 503, not 4xx.
    Object.assign(process.env, {
      JWT_SECRET: "e".repeat(32),
      KAFKA_BROKERS: "127.0.0.1:9",
      LOG_LEVEL: "error",
    });
  });
  afterEach(() => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it("export a handler per route that refuses unauthenticated and invalid writes", async () => {
    const create = await import("../src/handlers/create-todo");
    const update = await import("../src/handlers/update-todo");
    const remove = await import("../src/handlers/delete-todo");
    const id = "0190b5e2-7c4d-7a3e-8f00-123456789abc";
    const ctx = lambdaContext("req-a");
    const statuses: number[] = [];
    // stdoutLines keeps their EMF records out of the test output.
    await stdoutLines(async () => {
      // One at a time, as a Lambda container serves them.
      for (const invoke of [
        () => create.handler(event("POST", "/todos", { headers: JSON_TYPE, body: "{}" }), ctx),
        () =>
          update.handler(event("PATCH", `/todos/${id}`, { headers: JSON_TYPE, body: "{}" }), ctx),
        () => remove.handler(event("DELETE", `/todos/${id}`), ctx),
      ]) {
        statuses.push((await invoke()).statusCode);
      }
    });
    expect(statuses).toEqual([401, 401, 401]);
  });

  it("log through Powertools with the invocation's request id", async () => {
    process.env.LOG_LEVEL = "debug";
    const create = await import("../src/handlers/create-todo");
    const lines = await stdoutLines(() =>
      create.handler(
        event("POST", "/todos", { headers: JSON_TYPE, body: "{}" }),
        lambdaContext("req-powertools-1"),
      ),
    );
    const refused = lines.find((l) => l.message === "write refused");
    expect(refused).toMatchObject({
      level: "DEBUG",
      service: "write-api",
      function_request_id: "req-powertools-1",
      function_name: "million-rps-CreateTodo",
      route: "create",
      status: 401,
    });
  });

  it("emit EMF metrics per invocation: refused writes by reason, and the cold start", async () => {
    const create = await import("../src/handlers/create-todo");
    const lines = await stdoutLines(() =>
      create.handler(
        event("POST", "/todos", { headers: JSON_TYPE, body: "{}" }),
        lambdaContext("r"),
      ),
    );
    const emf = lines.filter((l) => l._aws !== undefined);
    const refused = emf.find((l) => l.WritesRefused !== undefined);
    expect(refused).toMatchObject({
      service: "write-api",
      reason: "unauthorized",
      WritesRefused: 1,
    });
    expect(refused?._aws).toMatchObject({
      CloudWatchMetrics: [
        {
          Namespace: "MillionRps",
          Dimensions: [["service", "reason"]],
          Metrics: [{ Name: "WritesRefused", Unit: "Count" }],
        },
      ],
    });
  });

  it("fail the cold start on a short secret", async () => {
    process.env.JWT_SECRET = "too-short";
    await expect(import("../src/handlers/create-todo")).rejects.toThrow(
      /JWT_SECRET must be at least 32 bytes/,
    );
  });
});
