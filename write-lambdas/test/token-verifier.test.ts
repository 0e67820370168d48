import { randomBytes } from "node:crypto";
import { HttpError } from "@million-rps/shared";
import { createLocalJWKSet, exportJWK, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { verificationKeys } from "../src/auth/key-source";
import { createTokenVerifier, type TokenVerifier } from "../src/auth/token-verifier";
import type { JwtSettings } from "../src/config";

const secret = randomBytes(48);
const now = () => Math.floor(Date.now() / 1000);
const OPTIONS = { clockToleranceSec: 5, retryAfterSec: 3 };

function hs256(claims: Record<string, unknown>, key: Uint8Array = secret, header = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256", ...header }).sign(key);
}
const valid = () => ({ sub: "alice", exp: now() + 60, iat: now() });

/** An unsecured JWT (`alg: none`): header and payload, empty signature. */
function unsecured(claims: Record<string, unknown>): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

async function rejection(verify: TokenVerifier, authorization: string | undefined) {
  const err = await verify(authorization).then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof HttpError)) throw new Error(`expected an HttpError, got ${String(err)}`);
  return err;
}

describe("HS256 verification", () => {
  const settings: JwtSettings = {
    mode: "secret",
    secret,
    issuer: "million-rps",
    audience: "todos",
  };
  const verify = createTokenVerifier(
    verificationKeys(settings, { region: undefined, timeoutMs: 1000 }),
    {
      ...OPTIONS,
      issuer: "million-rps",
      audience: "todos",
    },
  );
  const claims = () => ({ ...valid(), iss: "million-rps", aud: "todos" });

  it("accepts a valid token and returns the sub", async () => {
    expect(await verify(`Bearer ${await hs256(claims())}`)).toEqual({ sub: "alice" });
    expect(await verify(`bearer ${await hs256(claims())}`)).toEqual({ sub: "alice" });
  });

  it("asks for a bearer token when there is none (RFC 6750: no error code)", async () => {
    for (const authorization of [undefined, "", "Basic YWxpY2U6cHc="]) {
      const err = await rejection(verify, authorization);
      expect(err.status).toBe(401);
      expect(err.code).toBe("unauthorized");
      expect(err.headers["WWW-Authenticate"]).toBe('Bearer realm="todos"');
    }
  });

  const cases: [string, () => Promise<string> | string, RegExp][] = [
    ["malformed", () => "Bearer not.a.jwt", /malformed/],
    ["not even three parts", () => "Bearer abc", /malformed/],
    [
      "two tokens",
      async () => `Bearer ${await hs256(claims())} ${await hs256(claims())}`,
      /malformed/,
    ],
    ["oversized", () => `Bearer ${"a".repeat(9000)}`, /malformed/],
    [
      "wrong signature",
      async () => `Bearer ${await hs256(claims(), randomBytes(48))}`,
      /signature is invalid/,
    ],
    ["alg none", () => `Bearer ${unsecured(claims())}`, /algorithm is not accepted|malformed/],
    ["expired", async () => `Bearer ${await hs256({ ...claims(), exp: now() - 60 })}`, /expired/],
    [
      "not yet valid",
      async () => `Bearer ${await hs256({ ...claims(), nbf: now() + 60 })}`,
      /not yet valid/,
    ],
    [
      "wrong issuer",
      async () => `Bearer ${await hs256({ ...claims(), iss: "evil" })}`,
      /wrong issuer/,
    ],
    [
      "wrong audience",
      async () => `Bearer ${await hs256({ ...claims(), aud: "other" })}`,
      /wrong audience/,
    ],
    [
      "missing sub",
      async () => `Bearer ${await hs256({ exp: now() + 60, iss: "million-rps", aud: "todos" })}`,
      /no sub claim/,
    ],
    [
      "missing exp",
      async () => `Bearer ${await hs256({ sub: "alice", iss: "million-rps", aud: "todos" })}`,
      /no exp claim/,
    ],
    ["empty sub", async () => `Bearer ${await hs256({ ...claims(), sub: "" })}`, /sub claim/],
    [
      "sub too long",
      async () => `Bearer ${await hs256({ ...claims(), sub: "x".repeat(257) })}`,
      /sub claim/,
    ],
    [
      "HS512 instead of HS256",
      async () =>
        `Bearer ${await new SignJWT(claims()).setProtectedHeader({ alg: "HS512" }).sign(secret)}`,
      /algorithm is not accepted/,
    ],
  ];
  for (const [name, token, description] of cases) {
    it(`refuses a token that is ${name} with 401 invalid_token`, async () => {
      const err = await rejection(verify, await token());
      expect(err.status).toBe(401);
      expect(err.code).toBe("invalid_token");
      expect(err.message).toMatch(description);
      expect(err.headers["WWW-Authenticate"]).toBe(
        `Bearer realm="todos", error="invalid_token", error_description="${err.message}"`,
      );
    });
  }

  it("allows a small clock skew on exp and nbf", async () => {
    expect(await verify(`Bearer ${await hs256({ ...claims(), exp: now() - 2 })}`)).toEqual({
      sub: "alice",
    });
    expect(await verify(`Bearer ${await hs256({ ...claims(), nbf: now() + 2 })}`)).toEqual({
      sub: "alice",
    });
  });

  it("refuses an RS256 token (algorithm pinned to HS256)", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: "RS256" }).sign(privateKey);
    const err = await rejection(verify, `Bearer ${token}`);
    expect(err.message).toBe("the token algorithm is not accepted");
  });
});

describe("JWKS (RS256) verification", () => {
  let verify: TokenVerifier;
  let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
  const claims = () => ({ ...valid(), iss: "https://idp.example/", aud: "todos" });

  beforeAll(async () => {
    rsa = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(rsa.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    verify = createTokenVerifier(
      { algorithms: ["RS256"], key: createLocalJWKSet({ keys: [jwk] }) },
      { ...OPTIONS, issuer: "https://idp.example/", audience: "todos" },
    );
  });

  it("accepts a token signed by a key in the set", async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .sign(rsa.privateKey);
    expect(await verify(`Bearer ${token}`)).toEqual({ sub: "alice" });
  });

  it("refuses HS256 signed with the public key as the HMAC secret (HS/RS confusion)", async () => {
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const jwkText = new TextEncoder().encode(JSON.stringify(await exportJWK(rsa.publicKey)));
    for (const key of [pem, jwkText]) {
      const err = await rejection(verify, `Bearer ${await hs256(claims(), key, { kid: "k1" })}`);
      expect(err.status).toBe(401);
      expect(err.message).toBe("the token algorithm is not accepted");
    }
  });

  it("refuses alg none, an unknown key, and a wrong audience", async () => {
    expect((await rejection(verify, `Bearer ${unsecured(claims())}`)).status).toBe(401);
    const other = await generateKeyPair("RS256");
    const unknown = await new SignJWT(claims())
      .setProtectedHeader({ alg: "RS256", kid: "k2" })
      .sign(other.privateKey);
    expect((await rejection(verify, `Bearer ${unknown}`)).message).toBe(
      "no known key signed the token",
    );
    const forged = await new SignJWT(claims())
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .sign(other.privateKey);
    expect((await rejection(verify, `Bearer ${forged}`)).message).toBe(
      "the token signature is invalid",
    );
    const aud = await new SignJWT({ ...claims(), aud: "billing" })
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .sign(rsa.privateKey);
    expect((await rejection(verify, `Bearer ${aud}`)).message).toBe(
      "the token has the wrong audience",
    );
  });
});

describe("HS256 secret from Secrets Manager", () => {
  const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-AbCdEf";
  const settings: JwtSettings = { mode: "secret-arn", secretArn: ARN };

  function verifierWith(fetchSecret: (arn: string) => Promise<string>) {
    return createTokenVerifier(
      verificationKeys(settings, { region: "eu-west-1", timeoutMs: 1000, fetchSecret }),
      OPTIONS,
    );
  }

  it("fetches the secret once per cold start", async () => {
    const calls: string[] = [];
    const text = secret.toString("hex");
    const verify = verifierWith(async (arn) => {
      calls.push(arn);
      return text;
    });
    const token = await hs256(valid(), new TextEncoder().encode(text));
    expect(await verify(`Bearer ${token}`)).toEqual({ sub: "alice" });
    expect(await verify(`Bearer ${token}`)).toEqual({ sub: "alice" });
    expect(calls).toEqual([ARN]);
  });

  it("reads a JSON secret's `secret` field", async () => {
    const text = "s".repeat(40);
    const verify = verifierWith(async () => JSON.stringify({ secret: text }));
    const token = await hs256(valid(), new TextEncoder().encode(text));
    expect(await verify(`Bearer ${token}`)).toEqual({ sub: "alice" });
  });

  it("answers 503 with Retry-After while Secrets Manager is unreachable, then recovers", async () => {
    let up = false;
    const text = "t".repeat(40);
    const verify = verifierWith(async () => {
      if (!up) throw new Error("connect ETIMEDOUT");
      return text;
    });
    const token = `Bearer ${await hs256(valid(), new TextEncoder().encode(text))}`;
    const err = await rejection(verify, token);
    expect([err.status, err.code, err.headers["Retry-After"]]).toEqual([
      503,
      "auth_unavailable",
      "3",
    ]);
    up = true;
    expect(await verify(token)).toEqual({ sub: "alice" });
  });

  it("answers 500 for a short secret and does not fetch it again", async () => {
    let calls = 0;
    const verify = verifierWith(async () => {
      calls++;
      return "too-short";
    });
    const token = `Bearer ${await hs256(valid())}`;
    for (let i = 0; i < 2; i++) {
      const err = await rejection(verify, token);
      expect([err.status, err.code]).toEqual([500, "misconfigured"]);
      expect(err.message).not.toContain("too-short");
    }
    expect(calls).toBe(1);
  });

  it("never asks for the key of a token that is not HS256", async () => {
    let calls = 0;
    const verify = verifierWith(async () => {
      calls++;
      return "u".repeat(40);
    });
    expect((await rejection(verify, `Bearer ${unsecured(valid())}`)).status).toBe(401);
    expect(calls).toBe(0);
  });
});

// Issue 14: a `sub` with a lone surrogate was accepted (the owner check then failed on the
// user's own todos) and one with NUL got a 202 that ended `rejected: invalid`.
describe("hostile sub values", () => {
  const verify = createTokenVerifier(
    verificationKeys({ mode: "secret", secret }, { region: undefined, timeoutMs: 1000 }),
    OPTIONS,
  );
  const withSub = async (sub: unknown) => `Bearer ${await hs256({ ...valid(), sub })}`;

  const hostile: [string, unknown][] = [
    ["a lone high surrogate", "alice\uD800"],
    ["a lone low surrogate", "\uDC00alice"],
    ["a pair in the wrong order", "\uDE00\uD83D"],
    ["NUL", "ali\u0000ce"],
    ["an escape (C0)", "alice\u001b[31m"],
    ["a line break (C0)", "alice\nadmin"],
    ["a tab (C0)", "alice\t"],
    ["DEL", "alice\u007f"],
    ["NEL (C1)", "alice\u0085"],
    ["CSI (C1)", "\u009balice"],
    ["one unit too long", "x".repeat(257)],
    ["too long in surrogate pairs", "😀".repeat(129)],
    ["a number", 42],
  ];
  for (const [name, sub] of hostile) {
    it(`refuses a sub with ${name}: 401 with WWW-Authenticate`, async () => {
      const err = await rejection(verify, await withSub(sub));
      expect([err.status, err.code]).toEqual([401, "invalid_token"]);
      expect(err.headers["WWW-Authenticate"]).toMatch(
        /^Bearer realm="todos", error="invalid_token"/,
      );
    });
  }

  it("accepts well-formed Unicode up to the envelope's actor limit", async () => {
    for (const sub of ["ålice", "用户", "😀 emoji", "a b", "x".repeat(256), "😀".repeat(128)]) {
      expect(await verify(await withSub(sub))).toEqual({ sub });
    }
  });
});
