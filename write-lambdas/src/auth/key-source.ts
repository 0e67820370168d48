import { webcrypto } from "node:crypto";
import { checkHs256Secret } from "@million-rps/shared/config";
import { createRemoteJWKSet, errors, type JWTVerifyGetKey } from "jose";
import type { JwtSettings } from "../config";

/** The key source (Secrets Manager, the IdP's JWKS endpoint) is unreachable: a 503, not the caller's fault. */
export class KeySourceUnavailable extends Error {
  override name = "KeySourceUnavailable";
}

/** The deployment's key material is unusable (e.g. a short secret): a 500 until someone fixes it. */
export class KeySourceMisconfigured extends Error {
  override name = "KeySourceMisconfigured";
}

/** Reads a Secrets Manager secret's text; injectable so the pure parts test without a network. */
export type SecretFetcher = (secretArn: string) => Promise<string>;

export interface VerificationKeys {
  /** Pinned: jose refuses any other `alg` before it looks at the key. */
  algorithms: string[];
  key: JWTVerifyGetKey;
}

export interface KeySourceOptions {
  region: string | undefined;
  /** Bound on one Secrets Manager or JWKS fetch. */
  timeoutMs: number;
  fetchSecret?: SecretFetcher;
}

/** Memoizes a promise; forgets an outage (not a misconfiguration) so the next request tries again. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((err: unknown) => {
      if (!(err instanceof KeySourceMisconfigured)) pending = undefined;
      throw err;
    });
    return pending;
  };
}

type CryptoKey = webcrypto.CryptoKey;

/** Imported once, so each verification skips the raw-key import. */
function hmacKey(secret: Uint8Array): Promise<CryptoKey> {
  return webcrypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, [
    "verify",
  ]);
}

/** The secret is the SecretString itself, or the `secret` field when it holds a JSON object. */
export function secretFromSecretString(text: string): Uint8Array {
  let secret = text;
  if (text.trimStart().startsWith("{")) {
    const parsed: unknown = JSON.parse(text);
    const field = (parsed as { secret?: unknown }).secret;
    if (typeof field !== "string") throw new Error('a JSON secret needs a string "secret" field');
    secret = field;
  }
  return checkHs256Secret(new TextEncoder().encode(secret), "the JWT_SECRET_ARN secret");
}

export function secretsManagerFetcher(
  region: string | undefined,
  timeoutMs: number,
): SecretFetcher {
  return async function fetchSecretString(secretArn) {
    const { getSecretString } = await import("./secret-value");
    const text = await getSecretString(secretArn, region, timeoutMs);
    if (text === undefined) throw new Error("the secret has no SecretString");
    return text;
  };
}

/** Errors from a JWKS lookup that are the token's fault (401); anything else means the IdP is unreachable. */
function isTokenFault(err: unknown): boolean {
  return (
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JWKSMultipleMatchingKeys ||
    err instanceof errors.JOSENotSupported ||
    err instanceof errors.JOSEAlgNotAllowed ||
    err instanceof errors.JWSInvalid
  );
}

export function verificationKeys(
  settings: JwtSettings,
  options: KeySourceOptions,
): VerificationKeys {
  if (settings.mode === "jwks") {
    const jwks = createRemoteJWKSet(new URL(settings.jwksUrl), {
      timeoutDuration: options.timeoutMs,
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
    });
    return {
      algorithms: settings.algorithms,
      key: async function jwksKey(header, token) {
        try {
          return await jwks(header, token);
        } catch (err) {
          if (isTokenFault(err)) throw err;
          throw new KeySourceUnavailable("the JWKS endpoint could not be read", { cause: err });
        }
      },
    };
  }
  let load: () => Promise<CryptoKey>;
  if (settings.mode === "secret") {
    const secret = settings.secret;
    load = once(() => hmacKey(secret));
  } else {
    const fetchSecret =
      options.fetchSecret ?? secretsManagerFetcher(options.region, options.timeoutMs);
    const arn = settings.secretArn;
    // Fetched once per cold start; a failed fetch is retried by the next request.
    load = once(async function loadSecretFromSecretsManager() {
      let text: string;
      try {
        text = await fetchSecret(arn);
      } catch (err) {
        throw new KeySourceUnavailable("Secrets Manager could not be read", { cause: err });
      }
      try {
        return await hmacKey(secretFromSecretString(text));
      } catch (err) {
        throw new KeySourceMisconfigured(err instanceof Error ? err.message : String(err));
      }
    });
  }
  return { algorithms: ["HS256"], key: () => load() };
}
