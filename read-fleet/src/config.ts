import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import {
  type ConfigOf,
  custom,
  type Env,
  int,
  oneOf,
  parseConfig,
  renamed,
  str,
  vars,
} from "@million-rps/shared/config";
import type { UwsChoice } from "./native-uws";

/** Cache-Control of `GET /todos` pages: lets a CDN micro-cache and serve stale while it refetches. */
export const DEFAULT_CACHE_CONTROL =
  "public, max-age=1, stale-while-revalidate=5, stale-if-error=60";

const HEADER_VALUE = /^[\t\x20-\x7e]+$/;

/** A header value we write verbatim into responses: printable ASCII only, never CR/LF. */
function headerValue(variable: string, fallback: string) {
  return custom(variable, (env) => {
    const v = env[variable]?.trim();
    if (v === undefined || v === "") return fallback;
    if (!HEADER_VALUE.test(v)) throw new Error("must be printable ASCII (it is sent as a header)");
    return v;
  });
}

function host(variable: string, fallback: string) {
  return custom(variable, (env) => {
    const v = env[variable]?.trim();
    if (v === undefined || v === "") return fallback;
    if (!/^[0-9A-Za-z.:_-]+$/.test(v)) throw new Error(`must be a host name or IP address`);
    return v;
  });
}

/** Everything the read fleet reads from its environment, parsed once at start. */
export const readFleetSpec = {
  httpPort: vars.httpPort,
  httpHost: host("HTTP_HOST", "0.0.0.0"),
  adminPort: vars.adminPort,
  adminHost: host("ADMIN_HOST", "127.0.0.1"),
  /** uWS processes sharing HTTP_PORT (READ_WORKERS, the old name, still works and warns). */
  processes: renamed(int("READ_PROCESSES", Math.max(1, availableParallelism()), 1, 256)),
  redisUrl: vars.redisUrl,
  redisPassword: vars.redisPassword,
  redisPoolSize: vars.redisPoolSize,
  /** Redis is a cache: a command that takes longer than this counts as a failure. */
  redisTimeoutMs: int("REDIS_TIMEOUT_MS", 500, 10, 60_000),
  databaseUrl: vars.databaseUrl,
  // Per process; a fleet of N processes holds N times this many connections.
  dbPoolSize: int("DB_POOL_SIZE", 2, 1, 90),
  dbTimeoutMs: int("DB_TIMEOUT_MS", 2_000, 10, 60_000),
  cacheTtlSec: vars.cacheTtlSec,
  cacheKeyPrefix: vars.cacheKeyPrefix,
  cacheControl: headerValue("CACHE_CONTROL", DEFAULT_CACHE_CONTROL),
  l1MaxEntries: int("L1_MAX_ENTRIES", 10_000, 1, 10_000_000),
  l1MaxBytes: int("L1_MAX_BYTES", 256 * 1024 * 1024, 64 * 1024, 64 * 1024 * 1024 * 1024),
  /** How often each process compares the published change sequence with its own, whatever pub/sub says. */
  changePollMs: int("CHANGE_POLL_MS", 1_000, 50, 60_000),
  /** Refreshes of held answers running at once per process (a reset refreshes everything). */
  refreshConcurrency: int("REFRESH_CONCURRENCY", 8, 1, 1_000),
  /**
   * V8's initial old-space size for each uWS process, MB (0: V8's own). Every refresh
   * allocates its successor's bytes outside the heap, and V8 counts them towards its
   * next full collection: from a small start it marks the whole heap twice a second
   * under a few hundred changes a second. See processExecArgv in supervisor.ts.
   */
  initialOldSpaceMb: int("READ_INITIAL_OLD_SPACE_MB", 128, 0, 65_536),
  hotPages: vars.hotPages,
  /** Checks the tag inside command ids: the same secret the write API issues them with. */
  commandIdSecret: vars.commandIdSecret,
  /** Lifetime of the cross-process fill lock; a crashed filler blocks others at most this long. */
  fillLockMs: int("FILL_LOCK_MS", 2_000, 50, 60_000),
  /** Circuit breaker: consecutive failures that open it, and how long it stays open. */
  breakerFailures: int("BREAKER_FAILURES", 5, 1, 1000),
  breakerOpenMs: int("BREAKER_OPEN_MS", 2_000, 10, 600_000),
  shutdownGraceMs: int("SHUTDOWN_GRACE_MS", 5_000, 0, 600_000),
  /** The OpenAPI document served at /openapi.yaml; the container image sets it beside the bundle. */
  openapiPath: str(
    "OPENAPI_PATH",
    fileURLToPath(new URL("../../shared/openapi.yaml", import.meta.url)),
  ),
  /** Which uWS build to load: `auto` (the newest that runs natively here), `current` or `legacy`. */
  uwsBuild: oneOf<UwsChoice>("UWS_BUILD", "auto", ["auto", "current", "legacy"]),
  logLevel: vars.logLevel,
} as const;

export type ReadFleetConfig = ConfigOf<typeof readFleetSpec>;

/** Throws ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env): ReadFleetConfig {
  return parseConfig(readFleetSpec, env);
}
