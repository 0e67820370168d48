import { ConfigError } from "@million-rps/shared/config";
import { describe, expect, it } from "vitest";
import { parseWriteConfig, readJwtSettings } from "../src/config";

const SECRET = "a".repeat(32);

function problems(env: Record<string, string>): string[] {
  try {
    parseWriteConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.variable}: ${p.message}`);
    throw err;
  }
  return [];
}

describe("write config", () => {
  it("parses a local configuration with defaults", () => {
    const config = parseWriteConfig({
      JWT_SECRET: SECRET,
      KAFKA_BROKERS: "127.0.0.1:1,127.0.0.1:2",
    });
    expect(config.kafka.brokers).toEqual(["127.0.0.1:1", "127.0.0.1:2"]);
    expect(config.kafka.auth).toBe("none");
    expect(config.topic).toBe("todo-commands");
    expect(config.sendTimeoutMs).toBe(5000);
    expect(config.retryAfterSec).toBe(2);
    expect(config.clockToleranceSec).toBe(5);
    expect(config.jwt.mode).toBe("secret");
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads the idempotency store and command id settings, with local defaults", () => {
    const config = parseWriteConfig({ JWT_SECRET: SECRET });
    expect(config.redisUrl).toBe("redis://127.0.0.1:56379/0");
    expect(config.redisTimeoutMs).toBe(500);
    expect(config.idempotencyTtlSec).toBe(86_400);
    expect(config.keyPrefix).toBe("todos");
    expect(config.maxInFlight).toBe(256);
    expect(Buffer.from(config.commandIdSecret).toString()).toMatch(/^dev-only-fake/);
    const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redis-auth-AbCdEf";
    expect(parseWriteConfig({ JWT_SECRET: SECRET, REDIS_PASSWORD_ARN: arn }).redisPasswordArn).toBe(
      arn,
    );
    expect(problems({ JWT_SECRET: SECRET, REDIS_PASSWORD_ARN: arn, REDIS_PASSWORD: "p" })).toEqual([
      "REDIS_PASSWORD_ARN: set REDIS_PASSWORD or REDIS_PASSWORD_ARN, not both",
    ]);
  });

  it("needs a real COMMAND_ID_SECRET inside Lambda", () => {
    const lambda = { JWT_SECRET_ARN: "jwt", AWS_LAMBDA_FUNCTION_NAME: "create-todo" };
    expect(problems(lambda)).toEqual([
      "COMMAND_ID_SECRET: is required on AWS (shared by the write API and the read fleet)",
    ]);
    expect(problems({ ...lambda, COMMAND_ID_SECRET: "too-short" })).toEqual([
      "COMMAND_ID_SECRET: must be at least 32 bytes (got 9)",
    ]);
    expect(problems({ ...lambda, COMMAND_ID_SECRET: SECRET })).toEqual([]);
  });

  it("names the JWT variables when none is set", () => {
    expect(problems({})).toEqual([
      "JWT_SECRET | JWT_SECRET_ARN | JWKS_URL: set exactly one of JWT_SECRET | JWT_SECRET_ARN | JWKS_URL (found 0)",
    ]);
  });

  it("refuses two key sources at once", () => {
    expect(problems({ JWT_SECRET: SECRET, JWKS_URL: "https://idp.example/jwks" })[0]).toMatch(
      /set exactly one .*found 2/,
    );
  });

  it("refuses an HS256 secret shorter than 32 bytes, without echoing it", () => {
    const [problem] = problems({ JWT_SECRET: "short-secret-31-bytes-long-xxxxx".slice(0, 31) });
    expect(problem).toMatch(/JWT_SECRET must be at least 32 bytes for HS256 \(got 31\)/);
    expect(problem).not.toContain("short-secret");
  });

  it("counts bytes, not characters", () => {
    // 16 two-byte characters are 32 bytes: long enough.
    expect(readJwtSettings({ JWT_SECRET: "é".repeat(16) }).mode).toBe("secret");
    expect(() => readJwtSettings({ JWT_SECRET: "é".repeat(15) })).toThrow(/got 30/);
  });

  it("refuses a plain JWT_SECRET inside Lambda", () => {
    expect(() =>
      readJwtSettings({ JWT_SECRET: SECRET, AWS_LAMBDA_FUNCTION_NAME: "create-todo" }),
    ).toThrow(/on AWS use JWT_SECRET_ARN/);
  });

  it("takes a Secrets Manager ARN, and enforces issuer and audience when set", () => {
    expect(
      readJwtSettings({
        JWT_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-AbCdEf",
        JWT_ISSUER: "https://issuer.example",
        JWT_AUDIENCE: "todos",
      }),
    ).toEqual({
      mode: "secret-arn",
      secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-AbCdEf",
      issuer: "https://issuer.example",
      audience: "todos",
    });
    expect(readJwtSettings({ JWT_SECRET_ARN: "million-rps/jwt-secret" })).toMatchObject({
      secretArn: "million-rps/jwt-secret",
    });
    for (const bad of ["arn:aws:s3:::bucket", "two words", "x".repeat(513)]) {
      expect(() => readJwtSettings({ JWT_SECRET_ARN: bad })).toThrow(/secret ARN or name/);
    }
  });

  it("needs issuer and audience with a JWKS, https off loopback, asymmetric algorithms only", () => {
    const jwks = { JWKS_URL: "https://idp.example/.well-known/jwks.json" };
    expect(() => readJwtSettings(jwks)).toThrow(/needs JWT_ISSUER and JWT_AUDIENCE/);
    const full = { ...jwks, JWT_ISSUER: "https://idp.example/", JWT_AUDIENCE: "todos" };
    expect(readJwtSettings(full)).toMatchObject({ mode: "jwks", algorithms: ["RS256"] });
    expect(() => readJwtSettings({ ...full, JWKS_URL: "http://idp.example/jwks" })).toThrow(
      /must use https/,
    );
    expect(readJwtSettings({ ...full, JWKS_URL: "http://127.0.0.1:9/jwks" }).mode).toBe("jwks");
    expect(() => readJwtSettings({ ...full, JWT_ALGORITHMS: "RS256,HS256" })).toThrow(
      /asymmetric algorithms \(bad: HS256\)/,
    );
    expect(() => readJwtSettings({ ...full, JWKS_URL: "not a url" })).toThrow(/must be a URL/);
  });

  it("names each bad tuning variable", () => {
    expect(
      problems({
        JWT_SECRET: SECRET,
        KAFKA_SEND_TIMEOUT_MS: "60000",
        WRITE_RETRY_AFTER_SEC: "soon",
        JWT_CLOCK_TOLERANCE_SEC: "-1",
        KAFKA_AUTH: "scram",
      }).map((p) => p.split(":")[0]),
    ).toEqual([
      "KAFKA_BROKERS",
      "KAFKA_SEND_TIMEOUT_MS",
      "WRITE_RETRY_AFTER_SEC",
      "JWT_CLOCK_TOLERANCE_SEC",
    ]);
  });

  it("resolves brokers from MSK when only the cluster ARN is set", () => {
    const config = parseWriteConfig({
      JWT_SECRET: SECRET,
      MSK_CLUSTER_ARN: "arn:aws:kafka:eu-west-1:123456789012:cluster/todos/abc",
      KAFKA_AUTH: "aws-iam",
      AWS_REGION: "eu-west-1",
    });
    expect(config.kafka).toEqual({
      brokers: null,
      mskClusterArn: "arn:aws:kafka:eu-west-1:123456789012:cluster/todos/abc",
      auth: "aws-iam",
      region: "eu-west-1",
    });
  });
});
