import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  DEV_COMMAND_ID_SECRET,
  MIN_COMMAND_ID_SECRET_BYTES,
  parseConfig,
  vars,
} from "../src/config";
import { deriveId, isIssuedCommandId, issueCommandId, isUuid } from "../src/ids";

const secret = randomBytes(32);

/** The id with one bit of its 128 flipped (bit 0 = most significant of the first byte). */
function flipBit(id: string, bit: number): string {
  const b = Buffer.from(id.replaceAll("-", ""), "hex");
  b[bit >> 3] = (b[bit >> 3] ?? 0) ^ (0x80 >> (bit & 7));
  const hex = b.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe("command ids", () => {
  it("are canonical UUIDv8 with the RFC 9562 variant, and issued under their secret", () => {
    const id = issueCommandId(secret);
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe("8");
    expect("89ab").toContain(id[19]);
    expect(isIssuedCommandId(id, secret)).toBe(true);
    expect(isIssuedCommandId(id, randomBytes(32)), "another secret").toBe(false);
  });

  it("are random without parts and deterministic with them", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => issueCommandId(secret)));
    expect(ids.size).toBe(1000);
    const derived = issueCommandId(secret, "command", "alice", "POST /todos", "k-1");
    expect(issueCommandId(secret, "command", "alice", "POST /todos", "k-1")).toBe(derived);
    expect(issueCommandId(secret, "command", "bob", "POST /todos", "k-1")).not.toBe(derived);
    expect(isIssuedCommandId(derived, secret)).toBe(true);
    // Same identity bytes as the plain derived id; only the tag differs.
    expect(derived.slice(0, 23)).toBe(
      deriveId("command", "alice", "POST /todos", "k-1").slice(0, 23),
    );
  });

  it("refuses ids this API never issued: nil, max, random v4, plain derived v8, forged", () => {
    const refused = [
      "00000000-0000-0000-0000-000000000000",
      "ffffffff-ffff-ffff-ffff-ffffffffffff",
      randomUUID(),
      deriveId("command", "alice", "k"),
      // A v8 with the right bits and a guessed tag.
      `${issueCommandId(secret).slice(0, 24)}000000000000`,
      // Issued under another secret.
      issueCommandId(randomBytes(32)),
    ];
    for (const id of refused) expect(isIssuedCommandId(id, secret), id).toBe(false);
  });

  it("refuses every single flipped bit of an issued id", () => {
    const id = issueCommandId(secret);
    for (let bit = 0; bit < 128; bit++) {
      expect(isIssuedCommandId(flipBit(id, bit), secret), `bit ${bit}`).toBe(false);
    }
  });

  it("refuses what is not a canonical UUID at all", () => {
    const id = issueCommandId(secret);
    for (const bad of [id.toUpperCase(), id.replaceAll("-", ""), `${id} `, "", null, 42]) {
      expect(isIssuedCommandId(bad, secret)).toBe(false);
    }
  });
});

describe("COMMAND_ID_SECRET", () => {
  const read = (env: Record<string, string>) =>
    parseConfig({ secret: vars.commandIdSecret }, env).secret;
  const problem = (env: Record<string, string>) => {
    try {
      read(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems[0];
    }
    return undefined;
  };
  const real = "r".repeat(MIN_COMMAND_ID_SECRET_BYTES);

  it("falls back to the obviously fake dev value off AWS", () => {
    expect(Buffer.from(read({})).toString()).toBe(DEV_COMMAND_ID_SECRET);
    expect(DEV_COMMAND_ID_SECRET).toMatch(/dev-only-fake/);
    expect(Buffer.from(read({ COMMAND_ID_SECRET: real })).toString()).toBe(real);
  });

  it("is required on AWS (Lambda or ECS), and never the dev value there", () => {
    const onAws: Record<string, string>[] = [
      { AWS_LAMBDA_FUNCTION_NAME: "create-todo" },
      { ECS_CONTAINER_METADATA_URI_V4: "http://169.254.170.2/v4/x" },
    ];
    for (const aws of onAws) {
      expect(problem(aws)).toEqual({
        variable: "COMMAND_ID_SECRET",
        message: expect.stringMatching(/required on AWS/),
      });
      expect(problem({ ...aws, COMMAND_ID_SECRET: DEV_COMMAND_ID_SECRET })?.message).toMatch(
        /dev value/,
      );
      expect(Buffer.from(read({ ...aws, COMMAND_ID_SECRET: real })).toString()).toBe(real);
    }
  });

  it("is refused when shorter than 32 bytes", () => {
    expect(problem({ COMMAND_ID_SECRET: "short" })).toEqual({
      variable: "COMMAND_ID_SECRET",
      message: "must be at least 32 bytes (got 5)",
    });
    expect(problem({ COMMAND_ID_SECRET: "x".repeat(31), AWS_LAMBDA_FUNCTION_NAME: "f" })).toEqual({
      variable: "COMMAND_ID_SECRET",
      message: "must be at least 32 bytes (got 31)",
    });
  });
});

describe("IDEMPOTENCY_TTL_SEC", () => {
  it("defaults to a day and is bounded", () => {
    const ttl = (env: Record<string, string>) =>
      parseConfig({ ttl: vars.idempotencyTtlSec }, env).ttl;
    expect(ttl({})).toBe(86_400);
    expect(ttl({ IDEMPOTENCY_TTL_SEC: "3600" })).toBe(3600);
    expect(() => ttl({ IDEMPOTENCY_TTL_SEC: "5" })).toThrow(ConfigError);
  });
});
