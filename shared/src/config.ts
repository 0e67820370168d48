import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { LOG_LEVELS } from "./log";
import { parseHotPages } from "./refresh";

/**
 * Config is parsed once, at boot or cold start, into a frozen typed object.
 * Every problem names its variable; all problems are reported together.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigProblem {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join("\n")}`,
    );
  }
}

class VariableProblem extends Error {}

/** Reads and validates one variable; throws VariableProblem with a message for the user. */
export type Reader<T> = { readonly variable: string; read(env: Env): T };

function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

function show(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

export function str(variable: string, fallback: string): Reader<string> {
  return { variable, read: (env) => raw(env, variable) ?? fallback };
}

export function optionalStr(variable: string): Reader<string | undefined> {
  return { variable, read: (env) => raw(env, variable) };
}

export function int(variable: string, fallback: number, min: number, max: number): Reader<number> {
  return {
    variable,
    read(env) {
      const v = raw(env, variable);
      if (v === undefined) return fallback;
      const n = /^-?[0-9]+$/.test(v) ? Number(v) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        throw new VariableProblem(`must be an integer from ${min} to ${max} (got ${show(v)})`);
      }
      return n;
    },
  };
}

export function bool(variable: string, fallback: boolean): Reader<boolean> {
  return {
    variable,
    read(env) {
      const v = raw(env, variable)?.toLowerCase();
      if (v === undefined) return fallback;
      if (["1", "true", "yes", "on"].includes(v)) return true;
      if (["0", "false", "no", "off"].includes(v)) return false;
      throw new VariableProblem(`must be true or false (got ${show(v)})`);
    },
  };
}

/** One of a fixed set of words (case-insensitive); anything else is refused, not defaulted. */
export function oneOf<const T extends string>(
  variable: string,
  fallback: NoInfer<T>,
  allowed: readonly T[],
): Reader<T> {
  return {
    variable,
    read(env) {
      const v = raw(env, variable)?.toLowerCase();
      if (v === undefined) return fallback;
      const found = allowed.find((a) => a === v);
      if (found === undefined) {
        throw new VariableProblem(`must be one of ${allowed.join(", ")} (got ${show(v)})`);
      }
      return found;
    },
  };
}

export function list(variable: string, fallback: readonly string[]): Reader<readonly string[]> {
  return {
    variable,
    read(env) {
      const v = raw(env, variable);
      if (v === undefined) return fallback;
      const items = v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      if (items.length === 0) throw new VariableProblem("must list at least one value");
      return items;
    },
  };
}

export function url(
  variable: string,
  fallback: string,
  protocols: readonly string[],
): Reader<string> {
  return {
    variable,
    read(env) {
      const v = raw(env, variable) ?? fallback;
      let parsed: URL;
      try {
        parsed = new URL(v);
      } catch {
        // Never echo a URL that may hold a password.
        throw new VariableProblem(`must be a URL (${protocols.join(" or ")})`);
      }
      if (!protocols.includes(parsed.protocol)) {
        throw new VariableProblem(`must use ${protocols.join(" or ")} (got ${parsed.protocol})`);
      }
      return v;
    },
  };
}

/**
 * Variables that were renamed, old name to new: the old name is still read when the
 * new one is unset, and the deployable that reads it warns once at start
 * (deprecatedVariables).
 */
export const RENAMED_VARIABLES: Readonly<Record<string, string>> = {
  READ_WORKERS: "READ_PROCESSES",
  WORKER_POOL_SIZE: "WORKER_CONCURRENCY",
};

/** `reader`, falling back to its variable's old name (RENAMED_VARIABLES) when the new one is unset. */
export function renamed<T>(reader: Reader<T>): Reader<T> {
  const old = Object.keys(RENAMED_VARIABLES).find((k) => RENAMED_VARIABLES[k] === reader.variable);
  if (old === undefined) throw new Error(`${reader.variable} has no old name in RENAMED_VARIABLES`);
  return {
    variable: reader.variable,
    read(env) {
      if (raw(env, reader.variable) !== undefined || raw(env, old) === undefined) {
        return reader.read(env);
      }
      try {
        return reader.read({ ...env, [reader.variable]: env[old] });
      } catch (err) {
        if (!(err instanceof VariableProblem)) throw err;
        throw new VariableProblem(`${err.message} (set as ${old}, its deprecated name)`);
      }
    },
  };
}

/**
 * A warning for each variable `spec` reads that is set under its old name in `env`
 * (a deployable warns only of what it reads).
 */
export function deprecatedVariables(
  spec: Readonly<Record<string, Reader<unknown>>>,
  env: Env = process.env,
): string[] {
  const reads = new Set(Object.values(spec).map((r) => r.variable));
  return Object.entries(RENAMED_VARIABLES)
    .filter(([old, now]) => reads.has(now) && raw(env, old) !== undefined)
    .map(([old, now]) =>
      raw(env, now) === undefined
        ? `${old} is deprecated: set ${now} instead (read as ${now} for now)`
        : `${old} is deprecated and ignored: ${now} is set`,
    );
}

/** A reader derived from others, e.g. a default that depends on another variable. */
export function custom<T>(variable: string, read: (env: Env) => T): Reader<T> {
  return {
    variable,
    read(env) {
      try {
        return read(env);
      } catch (err) {
        throw new VariableProblem(err instanceof Error ? err.message : String(err));
      }
    },
  };
}

/** A reader's default: its value when its variable is unset (e.g. for the CDK app's own defaults). */
export function defaultOf<T>(reader: Reader<T>): T {
  return reader.read({});
}

export type ConfigOf<S extends Record<string, Reader<unknown>>> = {
  readonly [K in keyof S]: S[K] extends Reader<infer T> ? T : never;
};

export function parseConfig<S extends Record<string, Reader<unknown>>>(
  spec: S,
  env: Env = process.env,
): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const [key, reader] of Object.entries(spec)) {
    try {
      out[key] = reader.read(env);
    } catch (err) {
      if (!(err instanceof VariableProblem)) throw err;
      problems.push({ variable: reader.variable, message: err.message });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as ConfigOf<S>;
}

/**
 * Loads `.env` from `path` when present. Variables already in the environment win,
 * so a deployment's settings are never overridden by a stray file.
 */
export function loadDotEnv(
  path = ".env",
  env: Record<string, string | undefined> = process.env,
): boolean {
  if (!existsSync(path)) return false;
  const parsed = parseEnv(readFileSync(path, "utf8"));
  for (const [k, v] of Object.entries(parsed)) {
    if (env[k] === undefined) env[k] = v;
  }
  return true;
}

/**
 * The local, obviously fake COMMAND_ID_SECRET: the write API and the read fleet both
 * fall back to it on a developer machine (so `npm start` and the tests agree without
 * configuration), never on AWS.
 */
export const DEV_COMMAND_ID_SECRET = "dev-only-fake-command-id-secret-not-real-0123456789";
/** As for HS256 keys: shorter than the hash output is guessable offline. */
export const MIN_COMMAND_ID_SECRET_BYTES = 32;

/** HS256 keys shorter than the hash output are guessable offline (RFC 7518 §3.2). */
export const MIN_HS256_SECRET_BYTES = 32;

/** Throws when an HS256 secret is too short to be safe (the write API and dev tokens alike). */
export function checkHs256Secret(secret: Uint8Array, source: string): Uint8Array {
  if (secret.byteLength < MIN_HS256_SECRET_BYTES) {
    throw new Error(
      `${source} must be at least ${MIN_HS256_SECRET_BYTES} bytes for HS256 (got ${secret.byteLength})`,
    );
  }
  return secret;
}

/** Inside a Lambda function or an ECS task, where a dev fallback must never apply. */
export function runsOnAws(env: Env): boolean {
  return [
    "AWS_LAMBDA_FUNCTION_NAME",
    "ECS_CONTAINER_METADATA_URI_V4",
    "ECS_CONTAINER_METADATA_URI",
  ].some((name) => raw(env, name) !== undefined);
}

/** COMMAND_ID_SECRET as bytes: required (and not the dev value) on AWS, 32 bytes or more everywhere. */
function readCommandIdSecret(env: Env): Uint8Array {
  const value = raw(env, "COMMAND_ID_SECRET");
  if (value === undefined) {
    if (runsOnAws(env))
      throw new Error("is required on AWS (shared by the write API and the read fleet)");
    return new TextEncoder().encode(DEV_COMMAND_ID_SECRET);
  }
  if (value === DEV_COMMAND_ID_SECRET && runsOnAws(env)) {
    throw new Error("is the local dev value; set a real secret on AWS");
  }
  const bytes = new TextEncoder().encode(value);
  if (bytes.byteLength < MIN_COMMAND_ID_SECRET_BYTES) {
    throw new Error(
      `must be at least ${MIN_COMMAND_ID_SECRET_BYTES} bytes (got ${bytes.byteLength})`,
    );
  }
  return bytes;
}

/** Kafka names the deployables and the CDK app agree on; each has a variable that renames it. */
export const DEFAULT_TODO_TOPIC = "todo-commands";
export const DEFAULT_WORKER_GROUP = "todo-workers";
/** A group nobody runs: its lag on the DLQ is the DLQ's depth (shared/src/topics.ts). */
export const DEFAULT_DLQ_TRIAGE_GROUP = "todo-dlq-triage";

/** The dead-letter topic of a command topic, unless KAFKA_DLQ_TOPIC names another. */
export function dlqTopicOf(topic: string): string {
  return `${topic}.dlq`;
}

/**
 * The variables the seed project named, kept, with defaults sized for real backends
 * and pointing at the local stack that `npm start` brings up.
 */
export const vars = {
  httpPort: int("HTTP_PORT", 8080, 1, 65535),
  adminPort: int("ADMIN_PORT", 9464, 0, 65535),
  databaseUrl: url("DATABASE_URL", "postgres://postgres@127.0.0.1:55432/million_rps", [
    "postgres:",
    "postgresql:",
  ]),
  dbPoolSize: int("DB_POOL_SIZE", 10, 1, 90),
  redisUrl: url("REDIS_URL", "redis://127.0.0.1:56379/0", ["redis:", "rediss:"]),
  redisPoolSize: int("REDIS_POOL_SIZE", 2, 1, 64),
  /** Redis AUTH token (ElastiCache); on AWS injected from Secrets Manager, never in a template. */
  redisPassword: optionalStr("REDIS_PASSWORD"),
  cacheTtlSec: int("CACHE_TTL_SEC", 300, 1, 86_400),
  cacheKeyPrefix: str("CACHE_KEY_PREFIX", "todos"),
  kafkaBrokers: list("KAFKA_BROKERS", ["127.0.0.1:59092"]),
  /** On AWS instead of KAFKA_BROKERS: brokers from GetBootstrapBrokers (kafkaConnectionVars). */
  mskClusterArn: optionalStr("MSK_CLUSTER_ARN"),
  /** `aws-iam`: SASL OAUTHBEARER signed by the AWS MSK IAM signer, over TLS. */
  kafkaAuth: oneOf("KAFKA_AUTH", "none", ["none", "aws-iam"]),
  awsRegion: optionalStr("AWS_REGION"),
  kafkaTodoTopic: str("KAFKA_TODO_TOPIC", DEFAULT_TODO_TOPIC),
  kafkaDlqTopic: custom(
    "KAFKA_DLQ_TOPIC",
    (env) =>
      raw(env, "KAFKA_DLQ_TOPIC") ?? dlqTopicOf(raw(env, "KAFKA_TODO_TOPIC") ?? DEFAULT_TODO_TOPIC),
  ),
  /** The worker's consumer group. */
  kafkaGroupId: str("KAFKA_GROUP_ID", DEFAULT_WORKER_GROUP),
  kafkaDlqTriageGroup: str("KAFKA_DLQ_TRIAGE_GROUP", DEFAULT_DLQ_TRIAGE_GROUP),
  kafkaPartitions: int("KAFKA_PARTITIONS", 12, 1, 1000),
  /** Partitions the worker applies at once, one Postgres transaction each (WORKER_POOL_SIZE, the old name, still read). */
  workerConcurrency: renamed(int("WORKER_CONCURRENCY", 2, 1, 256)),
  jwtSecret: optionalStr("JWT_SECRET"),
  /** HMAC key of the tag inside every command id; write API and read fleet must share it. */
  commandIdSecret: custom("COMMAND_ID_SECRET", readCommandIdSecret),
  /** How long an Idempotency-Key's fingerprint and first answer are kept (Redis TTL). */
  idempotencyTtlSec: int("IDEMPOTENCY_TTL_SEC", 86_400, 60, 30 * 86_400),
  /** First pages the worker keeps fresh in L2 and each read process loads before it listens. */
  hotPages: custom("HOT_PAGES", (env) => parseHotPages(raw(env, "HOT_PAGES") ?? "100")),
  logLevel: oneOf("LOG_LEVEL", "info", LOG_LEVELS),
  /** The versioned SQL files: shared/migrations, or beside a bundle (../migrations from its folder). */
  migrationsDir: str("MIGRATIONS_DIR", fileURLToPath(new URL("../migrations", import.meta.url))),
} as const;

/** A reader's value inside another reader, its problem naming its own variable. */
function readWithin<T>(reader: Reader<T>, env: Env): T {
  try {
    return reader.read(env);
  } catch (err) {
    if (err instanceof VariableProblem) throw new Error(`${reader.variable} ${err.message}`);
    throw err;
  }
}

/**
 * How a deployable reaches Kafka: a broker list (local, compose, or configured MSK),
 * or an MSK cluster ARN resolved once per process with GetBootstrapBrokers (kafka.ts).
 */
export interface KafkaConnection {
  brokers: readonly string[] | null;
  mskClusterArn: string | undefined;
  auth: "none" | "aws-iam";
  region: string | undefined;
}

export const kafkaConnectionVars = {
  kafka: custom<KafkaConnection>("KAFKA_BROKERS", (env: Env) => {
    const arn = vars.mskClusterArn.read(env);
    const hasBrokers = raw(env, "KAFKA_BROKERS") !== undefined;
    const brokers = hasBrokers || arn === undefined ? readWithin(vars.kafkaBrokers, env) : null;
    const auth = readWithin(vars.kafkaAuth, env);
    const region = vars.awsRegion.read(env);
    if (auth === "aws-iam" && region === undefined)
      throw new Error("KAFKA_AUTH=aws-iam needs AWS_REGION");
    return { brokers, mskClusterArn: arn, auth, region };
  }),
} satisfies Record<string, Reader<unknown>>;
