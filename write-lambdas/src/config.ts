import {
  type ConfigOf,
  checkHs256Secret,
  custom,
  type Env,
  int,
  kafkaConnectionVars,
  parseConfig,
  str,
  vars,
} from "@million-rps/shared/config";

/**
 * Where the write API gets the keys that verify a caller's JWT:
 * - `secret`: HS256 with JWT_SECRET (local and tests only; refused inside Lambda),
 * - `secret-arn`: HS256 with the secret held in Secrets Manager (JWT_SECRET_ARN),
 * - `jwks`: a real identity provider's JWKS_URL, with JWT_ISSUER and JWT_AUDIENCE.
 * Issuer and audience, when set, are enforced in every mode.
 */
export type JwtSettings =
  | { mode: "secret"; secret: Uint8Array; issuer?: string; audience?: string }
  | { mode: "secret-arn"; secretArn: string; issuer?: string; audience?: string }
  | { mode: "jwks"; jwksUrl: string; issuer: string; audience: string; algorithms: string[] };

const JWT_VARIABLES = "JWT_SECRET | JWT_SECRET_ARN | JWKS_URL";
/** Asymmetric algorithms only: a JWKS never verifies an HMAC token (no HS/RS confusion). */
const JWKS_ALGORITHMS = new Set([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "EdDSA",
]);

const SECRET_ID = /^(arn:aws[\w-]*:secretsmanager:[^\s]+|[\w/+=.@-]{1,512})$/;

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === "" ? undefined : v;
}

export function readJwtSettings(env: Env): JwtSettings {
  const secret = value(env, "JWT_SECRET");
  const secretArn = value(env, "JWT_SECRET_ARN");
  const jwksUrl = value(env, "JWKS_URL");
  const issuer = value(env, "JWT_ISSUER");
  const audience = value(env, "JWT_AUDIENCE");
  const chosen = [secret, secretArn, jwksUrl].filter((v) => v !== undefined).length;
  if (chosen !== 1) {
    throw new Error(`set exactly one of ${JWT_VARIABLES} (found ${chosen})`);
  }
  const claims = { ...(issuer && { issuer }), ...(audience && { audience }) };
  if (secret !== undefined) {
    // A plain secret in a Lambda environment is readable by anyone who can read the function.
    if (value(env, "AWS_LAMBDA_FUNCTION_NAME") !== undefined) {
      throw new Error("JWT_SECRET is for local runs only; on AWS use JWT_SECRET_ARN");
    }
    const bytes = checkHs256Secret(new TextEncoder().encode(secret), "JWT_SECRET");
    return { mode: "secret", secret: bytes, ...claims };
  }
  if (secretArn !== undefined) {
    // Secrets Manager takes an ARN or a name (compose's LocalStack uses a name).
    if (!SECRET_ID.test(secretArn)) throw new Error("JWT_SECRET_ARN must be a secret ARN or name");
    return { mode: "secret-arn", secretArn, ...claims };
  }
  let url: URL;
  try {
    url = new URL(jwksUrl ?? "");
  } catch {
    throw new Error("JWKS_URL must be a URL");
  }
  if (url.protocol !== "https:" && !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    throw new Error("JWKS_URL must use https (plain http only on loopback)");
  }
  if (issuer === undefined || audience === undefined) {
    throw new Error("JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE");
  }
  const algorithms = (value(env, "JWT_ALGORITHMS") ?? "RS256")
    .split(",")
    .map((a) => a.trim())
    .filter((a) => a !== "");
  const bad = algorithms.filter((a) => !JWKS_ALGORITHMS.has(a));
  if (algorithms.length === 0 || bad.length > 0) {
    throw new Error(`JWT_ALGORITHMS must list asymmetric algorithms (bad: ${bad.join(", ")})`);
  }
  return { mode: "jwks", jwksUrl: url.toString(), issuer, audience, algorithms };
}

/** REDIS_PASSWORD_ARN: the Secrets Manager secret holding the Redis AUTH token (its SecretString). */
function readRedisPasswordArn(env: Env): string | undefined {
  const arn = value(env, "REDIS_PASSWORD_ARN");
  if (arn === undefined) return undefined;
  if (value(env, "REDIS_PASSWORD") !== undefined) {
    throw new Error("set REDIS_PASSWORD or REDIS_PASSWORD_ARN, not both");
  }
  if (!SECRET_ID.test(arn)) throw new Error("REDIS_PASSWORD_ARN must be a secret ARN or name");
  return arn;
}

/** How callers' tokens are verified: the write API reads these, and `npm run token` signs by them. */
export const jwtConfigSpec = {
  jwt: custom(JWT_VARIABLES, readJwtSettings),
  region: vars.awsRegion,
};

export const writeConfigSpec = {
  ...kafkaConnectionVars,
  ...jwtConfigSpec,
  topic: vars.kafkaTodoTopic,
  /** Total time a write may wait for Kafka (connect + ack) before answering 503. */
  sendTimeoutMs: int("KAFKA_SEND_TIMEOUT_MS", 5000, 100, 25_000),
  /** `Retry-After` on a 503, in seconds. */
  retryAfterSec: int("WRITE_RETRY_AFTER_SEC", 2, 1, 3600),
  /** Leeway for exp/nbf/iat against clock skew between issuer and us. */
  clockToleranceSec: int("JWT_CLOCK_TOLERANCE_SEC", 5, 0, 300),
  /** Tags command ids so the read fleet can tell issued ones (shared with it). */
  commandIdSecret: vars.commandIdSecret,
  /** The idempotency store: touched only by writes that carry an Idempotency-Key. */
  redisUrl: vars.redisUrl,
  redisPassword: vars.redisPassword,
  redisPasswordArn: custom("REDIS_PASSWORD_ARN", readRedisPasswordArn),
  /** Bound on connecting to Redis and on each command; past it a keyed write answers 503. */
  redisTimeoutMs: int("REDIS_TIMEOUT_MS", 500, 10, 10_000),
  /** Namespace of the idempotency keys (`<prefix>:idem:<hash>`), as for the cache. */
  keyPrefix: vars.cacheKeyPrefix,
  idempotencyTtlSec: vars.idempotencyTtlSec,
  /**
   * Kafka producers per process, each command sent through the one its todo id picks
   * (so one todo's commands keep their order). An idempotent producer has one request
   * in flight, so a process serving many writes at once (the local adapter) needs
   * several; a Lambda container serves one request at a time and needs one.
   */
  producers: custom("KAFKA_PRODUCERS", (env) => {
    const fallback = value(env, "AWS_LAMBDA_FUNCTION_NAME") === undefined ? 8 : 1;
    return int("KAFKA_PRODUCERS", fallback, 1, 64).read(env);
  }),
  /** Local adapter only: requests handled at once; more answer 503 at once (API Gateway and Lambda concurrency bound it on AWS). */
  maxInFlight: int("WRITE_MAX_IN_FLIGHT", 256, 1, 100_000),
  logLevel: vars.logLevel,
  /** Powertools' names: the `service` of every Lambda log line and metric, and the EMF namespace (cdk's METRIC_NAMESPACE). */
  serviceName: str("POWERTOOLS_SERVICE_NAME", "write-api"),
  metricsNamespace: str("POWERTOOLS_METRICS_NAMESPACE", "MillionRps"),
};

export type WriteConfig = ConfigOf<typeof writeConfigSpec>;

/** Parsed once per cold start; a ConfigError names every bad variable. */
export function parseWriteConfig(env: Env = process.env): WriteConfig {
  return parseConfig(writeConfigSpec, env);
}
