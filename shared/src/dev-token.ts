/**
 * Dev tokens for the write API: what `npm start` prints, `npm run token` mints, and
 * the tests and benches sign with. Here rather than in write-lambdas so the harness
 * and the scripts need not import the write API to sign a token.
 */
import { SignJWT } from "jose";
import { checkHs256Secret, type Env } from "./config";

/**
 * The local, obviously fake HS256 secret `.env.example` ships (a unit test keeps
 * them equal). Used by the local adapter and `npm run token` only when no JWT
 * setting is present, and they say so. Lambdas never fall back to it.
 */
export const DEV_JWT_SECRET = "dev-only-fake-secret-change-me-0123456789abcdef";

/** `env` with JWT_SECRET set to the dev secret when no JWT setting is present; `defaulted` says whether it was. */
export function withDevSecret(env: Env): { env: Env; defaulted: boolean } {
  const set = (name: string) => (env[name] ?? "").trim() !== "";
  if (set("JWT_SECRET") || set("JWT_SECRET_ARN") || set("JWKS_URL"))
    return { env, defaulted: false };
  return { env: { ...env, JWT_SECRET: DEV_JWT_SECRET }, defaulted: true };
}

export interface DevTokenOptions {
  /** The HS256 key, as text (JWT_SECRET) or bytes (a parsed JwtSettings secret). */
  secret: string | Uint8Array;
  ttlSec: number;
  issuer?: string;
  audience?: string;
  now?: Date;
}

/** An HS256 token for `sub`, as the write API verifies it. */
export async function mintDevToken(sub: string, options: DevTokenOptions): Promise<string> {
  if (sub.trim() === "") throw new Error("the user (sub) must not be empty");
  const bytes =
    typeof options.secret === "string" ? new TextEncoder().encode(options.secret) : options.secret;
  const key = checkHs256Secret(bytes, "JWT_SECRET");
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  let jwt = new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + options.ttlSec);
  if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  return jwt.sign(key);
}
