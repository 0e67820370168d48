import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from "jose";

/**
 * Tokens a hostile or broken client may send, for an HS256 write API (JWT_SECRET)
 * and for a JWKS one (a tiny local identity provider with a generated RSA key).
 */

export const ISSUER = "https://issuer.invalid/";
export const AUDIENCE = "todos-api";

export interface AuthCase {
  name: string;
  /** The Authorization header; undefined sends none. */
  authorization?: string;
}

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** A token whose claims default to a valid `sub` and `exp`; `undefined` in `claims` leaves one out. */
async function sign(
  key: SigningKey | Uint8Array,
  alg: string,
  claims: JWTPayload,
  kid?: string,
): Promise<string> {
  const payload: JWTPayload = { sub: "mallory", iat: now(), exp: now() + 600, ...claims };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return new SignJWT(payload)
    .setProtectedHeader({ alg, typ: "JWT", ...(kid && { kid }) })
    .sign(key);
}

/** Cases every write API must refuse whatever its key source: no token, or not a token at all. */
export function transportCases(): AuthCase[] {
  const header = b64({ alg: "HS256", typ: "JWT" });
  return [
    { name: "no Authorization header" },
    { name: "Bearer without a token", authorization: "Bearer" },
    { name: "Bearer and a space", authorization: "Bearer " },
    { name: "Basic credentials", authorization: "Basic YWxpY2U6c2VjcmV0" },
    { name: "a bare token without the scheme", authorization: `${header}.e30.sig` },
    { name: "malformed: one segment", authorization: bearer("abc") },
    { name: "malformed: two segments", authorization: bearer(`${header}.e30`) },
    { name: "malformed: empty segments", authorization: bearer("..") },
    { name: "malformed: header not JSON", authorization: bearer("bm90LWpzb24.e30.c2ln") },
    { name: "malformed: payload not JSON", authorization: bearer(`${header}.bm90LWpzb24.c2ln`) },
    { name: "malformed: characters outside base64url", authorization: bearer("a$b.c%d.e&f") },
    {
      name: "malformed: 9 KB token (over the verifier's 8 KB cap, under node's 16 KB header limit)",
      authorization: bearer(`${header}.${"A".repeat(9_000)}.sig`),
    },
    {
      name: "two tokens",
      authorization: `${bearer(`${header}.e30.a`)}, ${bearer(`${header}.e30.b`)}`,
    },
  ];
}

/** `alg: none`: an unsigned token with otherwise perfect claims. */
function unsigned(claims: JWTPayload): string {
  return `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "mallory", exp: now() + 600, ...claims })}.`;
}

/** Cases for an HS256 write API configured with `secret`, plus the RSA key an attacker owns. */
export async function hs256Cases(secret: string): Promise<AuthCase[]> {
  const key = new TextEncoder().encode(secret);
  const other = new TextEncoder().encode("another-secret-that-is-long-enough-0123456789");
  const rsa = await generateKeyPair("RS256");
  const valid = await sign(key, "HS256", {});
  const [h, , s] = valid.split(".");
  return [
    ...transportCases(),
    {
      name: "wrong signature (another secret)",
      authorization: bearer(await sign(other, "HS256", {})),
    },
    {
      name: "payload changed after signing (sub: admin)",
      authorization: bearer(`${h}.${b64({ sub: "admin", exp: now() + 600 })}.${s}`),
    },
    { name: "signature stripped", authorization: bearer(`${h}.${valid.split(".")[1]}.`) },
    { name: "alg none", authorization: bearer(unsigned({})) },
    {
      name: "alg None (case games)",
      authorization: bearer(`${b64({ alg: "None" })}.${b64({ sub: "m", exp: now() + 60 })}.`),
    },
    {
      name: "RS256 token (algorithm not pinned)",
      authorization: bearer(await sign(rsa.privateKey, "RS256", {})),
    },
    {
      name: "HS512 with the right secret (algorithm pinned to HS256)",
      authorization: bearer(await sign(key, "HS512", {})),
    },
    {
      name: "expired",
      authorization: bearer(await sign(key, "HS256", { iat: now() - 7200, exp: now() - 3600 })),
    },
    {
      name: "not yet valid (nbf in an hour)",
      authorization: bearer(await sign(key, "HS256", { nbf: now() + 3600 })),
    },
    { name: "missing sub", authorization: bearer(await sign(key, "HS256", { sub: undefined })) },
    { name: "empty sub", authorization: bearer(await sign(key, "HS256", { sub: "" })) },
    {
      name: "sub not a string",
      authorization: bearer(await sign(key, "HS256", { sub: 42 as unknown as string })),
    },
    {
      name: "sub of 10,000 characters",
      authorization: bearer(await sign(key, "HS256", { sub: "x".repeat(10_000) })),
    },
    { name: "missing exp", authorization: bearer(await sign(key, "HS256", { exp: undefined })) },
    {
      name: "exp not a number",
      authorization: bearer(await sign(key, "HS256", { exp: "tomorrow" as unknown as number })),
    },
  ];
}

export interface IdentityProvider {
  readonly jwksUrl: string;
  /** A valid RS256 token for `sub` (issuer, audience, kid all right). */
  token(sub: string, claims?: JWTPayload): Promise<string>;
  /** Cases that must fail against a write API trusting this provider. */
  attackCases(): Promise<AuthCase[]>;
  close(): Promise<void>;
}

/** A local identity provider: one RSA key, served as a JWKS over HTTP on loopback. */
export async function startIdentityProvider(): Promise<IdentityProvider> {
  const kid = "test-key-1";
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  const body = JSON.stringify({ keys: [jwk] });
  const server = createServer((req, res) => {
    if (req.url === "/.well-known/jwks.json") {
      res.writeHead(200, { "content-type": "application/json" }).end(body);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  const good = { iss: ISSUER, aud: AUDIENCE };
  const token = (sub: string, claims: JWTPayload = {}) =>
    sign(privateKey, "RS256", { ...good, sub, ...claims }, kid);

  async function attackCases(): Promise<AuthCase[]> {
    const stranger = await generateKeyPair("RS256");
    // The classic confusion: an HMAC token keyed with the provider's PUBLIC key.
    const pem = new TextEncoder().encode(await exportSPKI(publicKey));
    const jwkBytes = new TextEncoder().encode(JSON.stringify(jwk));
    return [
      ...transportCases(),
      {
        name: "wrong issuer",
        authorization: bearer(await token("mallory", { iss: "https://evil.invalid/" })),
      },
      {
        name: "wrong audience",
        authorization: bearer(await token("mallory", { aud: "another-api" })),
      },
      { name: "no issuer", authorization: bearer(await token("mallory", { iss: undefined })) },
      { name: "no audience", authorization: bearer(await token("mallory", { aud: undefined })) },
      {
        name: "HS256 keyed with the public key PEM",
        authorization: bearer(await sign(pem, "HS256", good, kid)),
      },
      {
        name: "HS256 keyed with the public JWK",
        authorization: bearer(await sign(jwkBytes, "HS256", good, kid)),
      },
      {
        name: "signed by a key not in the JWKS (same kid)",
        authorization: bearer(await sign(stranger.privateKey, "RS256", good, kid)),
      },
      {
        name: "signed by a key not in the JWKS (unknown kid)",
        authorization: bearer(await sign(stranger.privateKey, "RS256", good, "other")),
      },
      { name: "alg none", authorization: bearer(unsigned(good)) },
      {
        name: "expired",
        authorization: bearer(await token("mallory", { iat: now() - 7200, exp: now() - 3600 })),
      },
      {
        name: "not yet valid",
        authorization: bearer(await token("mallory", { nbf: now() + 3600 })),
      },
      { name: "missing sub", authorization: bearer(await token("mallory", { sub: undefined })) },
      { name: "missing exp", authorization: bearer(await token("mallory", { exp: undefined })) },
    ];
  }

  return {
    jwksUrl,
    token,
    attackCases,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
