import { ACTOR_MAX, HttpError } from "@million-rps/shared";
import { errors, jwtVerify } from "jose";
import { KeySourceMisconfigured, KeySourceUnavailable, type VerificationKeys } from "./key-source";

/** Who is writing: the JWT `sub`, recorded as the command's actor and checked as the todo's owner. */
export interface Caller {
  sub: string;
}

export type TokenVerifier = (authorization: string | undefined) => Promise<Caller>;

export interface VerifyOptions {
  issuer?: string;
  audience?: string;
  clockToleranceSec: number;
  /** `Retry-After` when the key source is down. */
  retryAfterSec: number;
}

const REALM = 'Bearer realm="todos"';
/** Far above any real token; refuses to parse megabytes of header. */
const TOKEN_MAX = 8192;
const BEARER = /^Bearer +([A-Za-z0-9\-_.~+/]+=*) *$/i;

/** RFC 6750: no error code when the request carried no bearer token at all. */
function missingToken(): HttpError {
  return new HttpError(401, "unauthorized", "a bearer token is required", {
    "WWW-Authenticate": REALM,
  });
}

function invalidToken(description: string, cause?: unknown): HttpError {
  return new HttpError(
    401,
    "invalid_token",
    description,
    { "WWW-Authenticate": `${REALM}, error="invalid_token", error_description="${description}"` },
    { cause },
  );
}

/** A fixed, quote-free description per failure: safe in a header, useful to a client, no internals. */
function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "the token has expired";
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === "missing") return `the token has no ${err.claim} claim`;
    if (err.claim === "nbf") return "the token is not yet valid";
    if (err.claim === "iss") return "the token has the wrong issuer";
    if (err.claim === "aud") return "the token has the wrong audience";
    if (err.claim === "iat") return "the token was issued in the future";
    return `the token has an invalid ${err.claim} claim`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return "the token algorithm is not accepted";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "the token signature is invalid";
  if (err instanceof errors.JWKSNoMatchingKey) return "no known key signed the token";
  return "the token is malformed";
}

/** A lone surrogate: with the `u` flag a well-formed pair is one code point outside this range. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
/** C0, DEL and C1 controls (Unicode category Cc). */
const CONTROL = /\p{Cc}/u;

/**
 * A `sub` fit to be a command's actor and a todo's owner: 1..ACTOR_MAX UTF-16 units
 * (the envelope's limit), well-formed Unicode (a lone surrogate cannot round-trip
 * through UTF-8, so the owner check would later fail on the user's own todos), and
 * no control characters (Postgres refuses NUL; the others are log and header injection).
 */
export function isValidSub(sub: unknown): sub is string {
  return (
    typeof sub === "string" &&
    sub.length > 0 &&
    sub.length <= ACTOR_MAX &&
    !LONE_SURROGATE.test(sub) &&
    !CONTROL.test(sub)
  );
}

export function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || !/^bearer\b/i.test(authorization)) throw missingToken();
  const match = authorization.length <= TOKEN_MAX + 7 ? BEARER.exec(authorization) : null;
  if (match?.[1] === undefined) throw invalidToken("the token is malformed");
  return match[1];
}

/**
 * Verifies a caller's JWT with algorithms pinned by the key source, `exp` and
 * `sub` required, issuer/audience when configured, and a small clock tolerance.
 * Every failure is an HttpError: 401 for the token, 503/500 for our key source.
 */
export function createTokenVerifier(keys: VerificationKeys, options: VerifyOptions): TokenVerifier {
  const verifyOptions = {
    algorithms: keys.algorithms,
    requiredClaims: ["exp", "sub"],
    clockTolerance: options.clockToleranceSec,
    ...(options.issuer !== undefined && { issuer: options.issuer }),
    ...(options.audience !== undefined && { audience: options.audience }),
  };
  return async function verifyCaller(authorization) {
    const token = bearerToken(authorization);
    let sub: unknown;
    try {
      ({
        payload: { sub },
      } = await jwtVerify(token, keys.key, verifyOptions));
    } catch (err) {
      if (err instanceof KeySourceUnavailable) {
        throw new HttpError(
          503,
          "auth_unavailable",
          "tokens cannot be verified right now; retry later",
          { "Retry-After": String(options.retryAfterSec) },
          { cause: err },
        );
      }
      if (err instanceof KeySourceMisconfigured) {
        throw new HttpError(
          500,
          "misconfigured",
          "the service is misconfigured",
          {},
          { cause: err },
        );
      }
      throw invalidToken(describe(err), err);
    }
    if (!isValidSub(sub)) throw invalidToken("the token has an invalid sub claim");
    return { sub };
  };
}
