import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { event, JSON_TYPE } from "./support";

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
    expect(
      (await create.handler(event("POST", "/todos", { headers: JSON_TYPE, body: "{}" })))
        .statusCode,
    ).toBe(401);
    expect(
      (await update.handler(event("PATCH", `/todos/${id}`, { headers: JSON_TYPE, body: "{}" })))
        .statusCode,
    ).toBe(401);
    expect((await remove.handler(event("DELETE", `/todos/${id}`))).statusCode).toBe(401);
  });

  it("fail the cold start on a short secret", async () => {
    process.env.JWT_SECRET = "too-short";
    await expect(import("../src/handlers/create-todo")).rejects.toThrow(
      /JWT_SECRET must be at least 32 bytes/,
    );
  });
});
