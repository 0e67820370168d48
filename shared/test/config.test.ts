import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  defaultOf,
  deprecatedVariables,
  int,
  kafkaConnectionVars,
  list,
  oneOf,
  parseConfig,
  RENAMED_VARIABLES,
  renamed,
  url,
  vars,
} from "../src/config";
import { migrationsDir } from "../src/migrations";

describe("parseConfig", () => {
  it("applies defaults sized for real backends", () => {
    const c = parseConfig(
      {
        pool: vars.dbPoolSize,
        port: vars.httpPort,
        topic: vars.kafkaTodoTopic,
        dlq: vars.kafkaDlqTopic,
      },
      {},
    );
    expect(c).toEqual({ pool: 10, port: 8080, topic: "todo-commands", dlq: "todo-commands.dlq" });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("names every bad variable at once", () => {
    let error: unknown;
    try {
      parseConfig(
        { port: vars.httpPort, pool: vars.dbPoolSize, redis: vars.redisUrl },
        { HTTP_PORT: "80a", DB_POOL_SIZE: "5000", REDIS_URL: "http://x" },
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => p.variable);
    expect(problems).toEqual(["HTTP_PORT", "DB_POOL_SIZE", "REDIS_URL"]);
    expect((error as Error).message).toContain("DB_POOL_SIZE: must be an integer from 1 to 90");
  });

  it("refuses a LOG_LEVEL typo instead of falling back to info, naming the variable", () => {
    let error: unknown;
    try {
      parseConfig({ logLevel: vars.logLevel }, { LOG_LEVEL: "inof" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { variable: "LOG_LEVEL", message: 'must be one of debug, info, warn, error (got "inof")' },
    ]);
    expect(parseConfig({ logLevel: vars.logLevel }, {}).logLevel).toBe("info");
    expect(parseConfig({ logLevel: vars.logLevel }, { LOG_LEVEL: " WARN " }).logLevel).toBe("warn");
  });

  it("reads one of a fixed set of words", () => {
    const mode = oneOf("MODE", "a", ["a", "b"]);
    expect(parseConfig({ mode }, { MODE: "b" }).mode).toBe("b");
    expect(() => parseConfig({ mode }, { MODE: "c" })).toThrow(/MODE: must be one of a, b/);
  });

  it("treats a blank variable as missing", () => {
    expect(parseConfig({ n: int("N", 7, 1, 10) }, { N: "  " }).n).toBe(7);
  });

  it("splits lists and refuses an empty one", () => {
    expect(parseConfig({ b: list("B", ["x"]) }, { B: "a:1, b:2" }).b).toEqual(["a:1", "b:2"]);
    expect(() => parseConfig({ b: list("B", ["x"]) }, { B: "," })).toThrow(
      /B: must list at least one value/,
    );
  });

  it("never echoes a URL that may hold a password", () => {
    expect(() =>
      parseConfig({ u: url("U", "", ["postgres:"]) }, { U: "not a url secret123" }),
    ).toThrow(/^(?!.*secret123)/s);
  });

  it("derives the DLQ topic from the command topic", () => {
    expect(parseConfig({ dlq: vars.kafkaDlqTopic }, { KAFKA_TODO_TOPIC: "cmds" }).dlq).toBe(
      "cmds.dlq",
    );
  });

  it("reads the migrations folder through its reader: shared/migrations unless MIGRATIONS_DIR says otherwise", () => {
    expect(migrationsDir({})).toBe(join(import.meta.dirname, "..", "migrations"));
    expect(migrationsDir({ MIGRATIONS_DIR: " /app/migrations " })).toBe("/app/migrations");
  });

  it("refuses a KAFKA_AUTH typo, naming KAFKA_AUTH", () => {
    expect(() => parseConfig(kafkaConnectionVars, { KAFKA_AUTH: "iam" })).toThrow(
      /KAFKA_AUTH must be one of none, aws-iam \(got "iam"\)/,
    );
    expect(parseConfig(kafkaConnectionVars, {}).kafka).toEqual({
      brokers: defaultOf(vars.kafkaBrokers),
      mskClusterArn: undefined,
      auth: "none",
      region: undefined,
    });
  });
});

describe("renamed variables", () => {
  const spec = { concurrency: vars.workerConcurrency };

  it("reads the new name, and the old one only when the new one is unset", () => {
    expect(parseConfig(spec, {}).concurrency).toBe(2);
    expect(parseConfig(spec, { WORKER_CONCURRENCY: "6" }).concurrency).toBe(6);
    expect(parseConfig(spec, { WORKER_POOL_SIZE: "5" }).concurrency).toBe(5);
    expect(parseConfig(spec, { WORKER_CONCURRENCY: "6", WORKER_POOL_SIZE: "5" }).concurrency).toBe(
      6,
    );
  });

  it("names the old variable in a problem found under it", () => {
    expect(() => parseConfig(spec, { WORKER_POOL_SIZE: "0" })).toThrow(
      'WORKER_CONCURRENCY: must be an integer from 1 to 256 (got "0") (set as WORKER_POOL_SIZE, its deprecated name)',
    );
  });

  it("warns for each old name set of what the spec reads, saying whether it is still read", () => {
    expect(deprecatedVariables(spec, {})).toEqual([]);
    expect(deprecatedVariables(spec, { WORKER_POOL_SIZE: "2" })).toEqual([
      "WORKER_POOL_SIZE is deprecated: set WORKER_CONCURRENCY instead (read as WORKER_CONCURRENCY for now)",
    ]);
    expect(deprecatedVariables(spec, { WORKER_POOL_SIZE: "2", WORKER_CONCURRENCY: "3" })).toEqual([
      "WORKER_POOL_SIZE is deprecated and ignored: WORKER_CONCURRENCY is set",
    ]);
    // Another deployable's old name is not this one's business.
    expect(deprecatedVariables(spec, { READ_WORKERS: "2" })).toEqual([]);
  });

  it("refuses a reader whose variable has no old name", () => {
    expect(() => renamed(int("NOT_RENAMED", 1, 0, 2))).toThrow("NOT_RENAMED has no old name");
    for (const now of Object.values(RENAMED_VARIABLES)) expect(now).toMatch(/^[A-Z][A-Z0-9_]+$/);
  });
});
