import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { DEV_JWT_SECRET, mintDevToken, withDevSecret } from "@million-rps/shared/dev-token";
import { describe, expect, it } from "vitest";
import { verificationKeys } from "../src/auth/key-source";
import { createTokenVerifier } from "../src/auth/token-verifier";

describe("dev tokens", () => {
  it("uses the same fake secret as .env.example", () => {
    const example = parseEnv(
      readFileSync(join(import.meta.dirname, "..", "..", ".env.example"), "utf8"),
    );
    expect(example.JWT_SECRET).toBe(DEV_JWT_SECRET);
  });

  it("falls back to the dev secret only when no JWT setting is present", () => {
    expect(withDevSecret({})).toEqual({ env: { JWT_SECRET: DEV_JWT_SECRET }, defaulted: true });
    for (const env of [
      { JWT_SECRET: "x".repeat(32) },
      { JWT_SECRET_ARN: "arn:x" },
      { JWKS_URL: "https://i/j" },
    ]) {
      expect(withDevSecret(env)).toEqual({ env, defaulted: false });
    }
  });

  it("mints a token the write API accepts for that user, expiring after the ttl", async () => {
    const secret = "m".repeat(40);
    const now = new Date();
    const token = await mintDevToken("alice", {
      secret,
      ttlSec: 120,
      issuer: "local",
      audience: "todos",
      now,
    });
    const verify = createTokenVerifier(
      verificationKeys(
        { mode: "secret", secret: new TextEncoder().encode(secret) },
        { region: undefined, timeoutMs: 1000 },
      ),
      { issuer: "local", audience: "todos", clockToleranceSec: 0, retryAfterSec: 1 },
    );
    expect(await verify(`Bearer ${token}`)).toEqual({ sub: "alice" });
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
    expect(payload.exp - payload.iat).toBe(120);
  });

  it("refuses a short secret and an empty user", async () => {
    await expect(mintDevToken("alice", { secret: "short", ttlSec: 60 })).rejects.toThrow(
      /at least 32 bytes/,
    );
    await expect(mintDevToken(" ", { secret: DEV_JWT_SECRET, ttlSec: 60 })).rejects.toThrow(
      /must not be empty/,
    );
  });
});
