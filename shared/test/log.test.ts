import { describe, expect, it } from "vitest";
import { DependencyError } from "../src/errors";
import { REDACTED, withoutUrlPasswords } from "../src/log";
import { createLogger } from "../src/pino-logger";

function capture(level: "debug" | "info" = "info") {
  const lines: string[] = [];
  const log = createLogger("t", { level, write: (l) => lines.push(l) });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, records };
}

describe("createLogger (pino)", () => {
  it("writes one JSON line per record, with the error's cause chain", () => {
    const { log, lines, records } = capture();
    const root = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), {
      code: "ECONNREFUSED",
    });
    log.warn("fill failed", {
      err: new DependencyError("postgres", "Postgres is unavailable", { cause: root }),
    });
    log.debug("hidden at info");
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith("}\n")).toBe(true);
    expect(records()[0]).toMatchObject({
      level: "warn",
      msg: "fill failed",
      component: "t",
      pid: process.pid,
      err: {
        name: "DependencyError",
        message: "Postgres is unavailable",
        cause: {
          name: "Error",
          message: "connect ECONNREFUSED 127.0.0.1:5432",
          code: "ECONNREFUSED",
        },
      },
    });
    expect(lines[0]).not.toContain("stack");
  });

  // cdk/src/signals.ts filters on `$.level = "error"` and `$.msg = "..."`.
  it("keeps the line shape the CloudWatch metric filters match: level label, msg, ts", () => {
    const { log, records } = capture();
    log.error("page fill failed with nothing cached to serve", { n: 1, big: 12n });
    const [record] = records();
    expect(record).toMatchObject({
      level: "error",
      msg: "page fill failed with nothing cached to serve",
      component: "t",
      n: 1,
      big: "12",
    });
    expect(String(record?.ts)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(record).not.toHaveProperty("time");
    expect(record).not.toHaveProperty("hostname");
  });

  it("adds stack traces at debug only", () => {
    const { log, records } = capture("debug");
    log.debug("boom", { err: new Error("x") });
    expect(records()[0]).toMatchObject({ err: { stack: expect.stringContaining("Error: x") } });
  });

  it("child loggers carry their fields", () => {
    const { log, records } = capture();
    log.child({ dependency: "redis" }).info("up", { n: 2 });
    expect(records()[0]).toMatchObject({ msg: "up", dependency: "redis", n: 2, component: "t" });
  });

  it("redacts authorization and cookie headers, secrets, URL passwords and err.config", () => {
    const { log, lines, records } = capture();
    const axiosLike = Object.assign(new Error("Request failed with status code 401"), {
      config: { headers: { authorization: "Bearer eyJ.secret.jwt" } },
      response: { headers: { "set-cookie": "session=abc" } },
    });
    log.warn("request", {
      headers: { authorization: "Bearer eyJ.top", cookie: "s=1", "content-type": "a/b" },
      req: { headers: { authorization: "Basic dXNlcjpwYXNz", "set-cookie": "x=1" } },
      JWT_SECRET: "jwt-secret-value-0123456789abcdef",
      REDIS_PASSWORD: "redis-pass-value",
      COMMAND_ID_SECRET: "command-id-secret-value",
      password: "hunter2",
      config: { redisPassword: "nested-redis-pass", databaseUrl: "postgres://u:pgpass@db:5432/x" },
      url: "redis://:redis-url-pass@cache:6379/0",
      err: axiosLike,
      plain_err: { message: "not an Error", config: { headers: { authorization: "Bearer x" } } },
    });
    log.child({ token: "child-token-value" }).info("child");
    const text = lines.join("");
    for (const secret of [
      "eyJ",
      "s=1",
      "dXNlcjpwYXNz",
      "x=1",
      "jwt-secret-value",
      "redis-pass-value",
      "command-id-secret-value",
      "hunter2",
      "nested-redis-pass",
      "pgpass",
      "redis-url-pass",
      "session=abc",
      "child-token-value",
    ]) {
      expect(text).not.toContain(secret);
    }
    const [record, child] = records();
    expect(record).toMatchObject({
      headers: { authorization: REDACTED, cookie: REDACTED, "content-type": "a/b" },
      JWT_SECRET: REDACTED,
      password: REDACTED,
      config: { databaseUrl: `postgres://u:${REDACTED}@db:5432/x` },
      url: `redis://:${REDACTED}@cache:6379/0`,
      err: { name: "Error", message: "Request failed with status code 401" },
    });
    expect(record?.err).not.toHaveProperty("config");
    expect(child).toMatchObject({ token: REDACTED });
  });

  it("cuts passwords out of URLs in error messages", () => {
    const { log, lines } = capture();
    log.error("connect failed", { err: new Error("cannot reach postgres://app:s3cret@db/x") });
    expect(lines[0]).toContain(`postgres://app:${REDACTED}@db/x`);
    expect(lines[0]).not.toContain("s3cret");
  });
});

describe("withoutUrlPasswords", () => {
  it("keeps URLs without a password as they are", () => {
    expect(withoutUrlPasswords("redis://cache:6379/0 and postgres://u@db/x")).toBe(
      "redis://cache:6379/0 and postgres://u@db/x",
    );
    expect(withoutUrlPasswords("a rediss://default:tok@h:1 b")).toBe(
      `a rediss://default:${REDACTED}@h:1 b`,
    );
  });
});
