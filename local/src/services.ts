import { mkdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { optionalStr, parseConfig, vars } from "@million-rps/shared/config";
import pg from "pg";
import { isStopRequested, StartupError, StopRequested } from "./errors";
import { type KafkaInstance, kafkaInstance } from "./kafka";
import { reclaimLeftovers, runningOthersIn, stopStrays } from "./leftovers";
import { describeOwned, ownedProcesses } from "./owned-processes";
import { dataDir } from "./paths";
import { DATABASE_NAME, type PostgresInstance, postgresInstance } from "./postgres";
import { ENDPOINT_VARIABLE, type Purpose, type ServiceName } from "./prerequisites";
import { canConnect, freePort } from "./proc";
import { selfIdentity } from "./process-identity";
import { provision } from "./provision";
import { type RedisInstance, redisInstance } from "./redis";
import { type StopOptions, Teardown, throwIfStopping } from "./teardown";

export type { ServiceName } from "./prerequisites";
export const SERVICE_NAMES: readonly ServiceName[] = ["postgres", "redis", "kafka"];

export interface ServiceEndpoints {
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string[];
}

export interface ServiceReport {
  name: ServiceName;
  /** `external`: configured and reachable, used as is; `started`: a private instance we run. */
  mode: "external" | "started";
  endpoint: string;
  ms: number;
}

export interface RunningServices {
  readonly endpoints: ServiceEndpoints;
  readonly reports: readonly ServiceReport[];
  readonly instances: { postgres?: PostgresInstance; redis?: RedisInstance; kafka?: KafkaInstance };
  /** Stops what this harness started, and nothing else; resolves to what it stopped, in words. */
  stop(options?: StopOptions): Promise<readonly string[]>;
}

/** Services being brought up that can be stopped at any moment, even halfway through `start`. */
export interface ServiceSet {
  /** Starts every wanted service (once); rejects with StopRequested when `stop` was called meanwhile. */
  start(): Promise<RunningServices>;
  /** Stops whatever this set started or is starting, waiting for it; safe to call more than once. */
  stop(options?: StopOptions): Promise<readonly string[]>;
}

export interface StartOptions {
  /** `dev` keeps its data and uses the configured (default) ports; `test` uses free ports and a fresh broker. */
  profile: "dev" | "test";
  env?: Readonly<Record<string, string | undefined>>;
  only?: readonly ServiceName[];
  onProgress?: (msg: string) => void;
  /**
   * Home of the private instances, `<dataRoot>/<profile>/<service>`; default
   * MRPS_DATA_DIR, else `.data`. The Kafka jars stay in the cache under MRPS_DATA_DIR.
   */
  dataRoot?: string;
  /** Whose prerequisites to provision; default `start` for the dev profile, `test` for the test one. */
  purpose?: Purpose;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

function hostPort(endpoint: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(endpoint.includes("://") ? endpoint : `tcp://${endpoint}`);
  return { host: u.hostname, port: u.port === "" ? defaultPort : Number(u.port) };
}

/** What the harness needs of a private Postgres, Redis or Kafka to start it and stop it with the rest. */
type PrivateInstance = Pick<PostgresInstance, "start" | "pid">;

/** Where one wanted service comes from: a configured endpoint that answers, or a private instance on `port`. */
type Placement = { name: ServiceName; external: true } | { name: ServiceName; port: number };

let setsInThisProcess = 0;

/**
 * Brings up Postgres, Redis and Kafka for a local run or a test run. Each one is
 * taken from DATABASE_URL / REDIS_URL / KAFKA_BROKERS when that is reachable;
 * otherwise, if it points at this machine (or is unset), a private instance is
 * started on that port from local binaries, under `<dataRoot>/<profile>/`. Before
 * that, leftovers of earlier runs that were killed are stopped, and missing system
 * packages are installed (local/src/provision.ts).
 */
export async function startServices(options: StartOptions): Promise<RunningServices> {
  const set = serviceSet(options);
  try {
    return await set.start();
  } catch (err) {
    await set.stop().catch(() => {});
    throw err;
  }
}

export function serviceSet(options: StartOptions): ServiceSet {
  const env = options.env ?? process.env;
  const wanted = options.only ?? SERVICE_NAMES;
  const say = options.onProgress ?? (() => {});
  const purpose = options.purpose ?? (options.profile === "dev" ? "start" : "test");
  const root = options.dataRoot ?? dataDir();
  // Each test run gets data directories of its own, so parallel runs never share a cluster.
  setsInThisProcess++;
  const stackName =
    options.profile === "dev"
      ? "dev"
      : `test-${process.pid}${setsInThisProcess > 1 ? `-${setsInThisProcess}` : ""}`;
  const stackDir = join(root, stackName);
  const serviceDir = (name: string) => {
    const dir = join(stackDir, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const teardown = new Teardown();
  const signal = teardown.signal;
  const instances: RunningServices["instances"] = {};
  const reports: ServiceReport[] = [];
  // Set as `run` begins: the deployables' own defaults (shared/src/config.ts), which
  // `npm start`'s private services match, or what the environment configures.
  let endpoints: ServiceEndpoints = { databaseUrl: "", redisUrl: "", kafkaBrokers: [] };
  const isConfigured = (name: ServiceName) =>
    optionalStr(ENDPOINT_VARIABLE[name]).read(env) !== undefined;
  const created: { postgres?: PostgresInstance } = {};

  // Undone last: the test profile's data is throw-away, wherever the cluster lived.
  teardown.add("data", async () => {
    if (options.profile === "test") {
      created.postgres?.removeData();
      rmSync(stackDir, { recursive: true, force: true });
    }
    return [];
  });
  // The catch-all: anything this process started for this stack that the steps below missed.
  teardown.add("strays", (o) => stopStrays(stackDir, o));

  async function place(name: ServiceName): Promise<Placement> {
    const [endpoint, defaultPort] =
      name === "postgres"
        ? [endpoints.databaseUrl, 5432]
        : name === "redis"
          ? [endpoints.redisUrl, 6379]
          : [endpoints.kafkaBrokers[0] ?? "", 9092];
    // The test profile never adopts the dev stack's default ports: a test run must not
    // write into the database `npm start` is serving. Only a configured endpoint is used.
    if (options.profile === "test" && !isConfigured(name)) return { name, port: await freePort() };
    const { host, port } = hostPort(endpoint, defaultPort);
    if (await canConnect(host, port)) return { name, external: true };
    if (!LOOPBACK.has(host)) {
      throw new StartupError(
        `${ENDPOINT_VARIABLE[name]} (${redact(endpoint)}) is not reachable and is not on this machine, so no private instance can stand in for it`,
        `Start that service, or unset ${ENDPOINT_VARIABLE[name]} to get a private one.`,
      );
    }
    // An unreachable loopback endpoint gets a private instance on its port.
    return { name, port };
  }

  /**
   * Another run that is still going (a second `npm start`, or `--services-only`) may
   * own services of this stack. One that answers is used, and said to be that run's;
   * one this run would have to start on the same data is refused: two clusters cannot
   * share a data directory, and stopping the other run's is not ours to do.
   */
  function checkOtherRuns(placements: readonly Placement[]): Map<ServiceName, string> {
    const others = runningOthersIn(ownedProcesses(stackDir), stackDir, selfIdentity());
    const ownerOf = new Map<ServiceName, string>();
    for (const p of others)
      if (SERVICE_NAMES.includes(p.part as ServiceName))
        ownerOf.set(p.part as ServiceName, `started by the run with pid ${p.owner?.pid}`);
    const clashes = placements.filter((p) => "port" in p && ownerOf.has(p.name));
    if (clashes.length > 0) {
      const owners = [...new Set(others.map((p) => p.owner?.pid))].join(", ");
      throw new StartupError(
        `another run (pid ${owners}) is using this stack's data in ${shortPath(stackDir)}: ${describeOwned(others)}`,
        `Stop it first (Ctrl-C in its terminal, or kill -INT ${owners}), or give this one its own MRPS_DATA_DIR and ports (HTTP_PORT, DATABASE_URL, ...).`,
      );
    }
    return ownerOf;
  }

  function report(name: ServiceName, mode: ServiceReport["mode"], endpoint: string, t0: number) {
    reports.push({ name, mode, endpoint, ms: Date.now() - t0 });
  }

  function external(name: ServiceName, t0: number, whose: string | undefined): void {
    const endpoint =
      name === "postgres"
        ? redact(endpoints.databaseUrl)
        : name === "redis"
          ? redact(endpoints.redisUrl)
          : endpoints.kafkaBrokers.join(",");
    const note = whose === undefined ? "" : ` (${whose}, still running)`;
    report(name, "external", `${endpoint}${note}`, t0);
  }

  /**
   * Starts a private instance and joins it to the teardown before its start is
   * awaited, so a stop meanwhile finds it (and waits for the start to settle).
   * `stopIt` is how that service stops, in a hurry or not.
   */
  async function startPrivate(
    label: string,
    port: number,
    instance: PrivateInstance,
    stopIt: (o: StopOptions) => Promise<void>,
  ): Promise<void> {
    const starting = instance.start(signal);
    teardown.add(label, async (o) => {
      await starting.catch(() => {});
      const pid = instance.pid();
      await stopIt(o);
      return pid === null ? [] : [`${label} (pid ${pid}, port ${port})`];
    });
    await starting;
  }

  async function startPostgres(port: number, t0: number): Promise<void> {
    say(`starting Postgres on 127.0.0.1:${port}`);
    const instance = postgresInstance(serviceDir("postgres"), port);
    created.postgres = instance;
    await startPrivate("Postgres", port, instance, (o) =>
      instance.stop(o.hurry?.aborted ? "immediate" : "fast", o),
    );
    const own = options.profile === "test" || !isConfigured("postgres");
    if (!own) await ensureDatabase(instance.url, endpoints.databaseUrl);
    instances.postgres = instance;
    if (own) endpoints.databaseUrl = instance.url;
    report("postgres", "started", endpoints.databaseUrl, t0);
  }

  async function startRedis(port: number, t0: number): Promise<void> {
    say(`starting Redis on 127.0.0.1:${port}`);
    const instance = redisInstance(serviceDir("redis"), port);
    await startPrivate("Redis", port, instance, (o) => instance.stop(o));
    instances.redis = instance;
    const db = new URL(endpoints.redisUrl).pathname.replace("/", "") || "0";
    endpoints.redisUrl = `redis://127.0.0.1:${port}/${options.profile === "test" ? "0" : db}`;
    report("redis", "started", endpoints.redisUrl, t0);
  }

  async function startKafka(port: number, t0: number): Promise<void> {
    const controllerPort = options.profile === "test" ? await freePort() : port + 1;
    throwIfStopping(signal);
    say(`starting Kafka 3.9 (KRaft) on 127.0.0.1:${port}`);
    const instance = kafkaInstance(serviceDir("kafka"), port, controllerPort, {
      onProgress: say,
    });
    await startPrivate("Kafka", port, instance, (o) =>
      instance.stop(o.hurry?.aborted ? "SIGKILL" : "SIGTERM", o),
    );
    instances.kafka = instance;
    endpoints.kafkaBrokers = instance.brokers;
    report("kafka", "started", instance.brokers.join(","), t0);
  }

  async function run(): Promise<RunningServices> {
    const t0 = Date.now();
    const configured = parseConfig(
      { databaseUrl: vars.databaseUrl, redisUrl: vars.redisUrl, kafkaBrokers: vars.kafkaBrokers },
      env,
    );
    endpoints = { ...configured, kafkaBrokers: [...configured.kafkaBrokers] };
    await reclaimLeftovers(root, say);
    const placements = await Promise.all(wanted.map(place));
    const otherRuns = checkOtherRuns(placements);
    throwIfStopping(signal);
    const privateOnes = placements.flatMap((p) => ("port" in p ? [p.name] : []));
    if (privateOnes.length > 0)
      await provision({ purpose, privateServices: privateOnes, say, teardown });
    throwIfStopping(signal);
    const results = await Promise.allSettled(
      placements.map(async (p) => {
        if (!("port" in p)) return external(p.name, t0, otherRuns.get(p.name));
        if (p.name === "postgres") return startPostgres(p.port, t0);
        if (p.name === "redis") return startRedis(p.port, t0);
        return startKafka(p.port, t0);
      }),
    );
    const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    if (failures.length > 0) {
      // Once a stop is requested, whatever failed on the way down is part of stopping.
      if (teardown.requested) throw new StopRequested();
      throw combined(
        failures.filter((f) => !isStopRequested(f)),
        stackDir,
      );
    }
    return { endpoints, reports, instances, stop };
  }

  let starting: Promise<RunningServices> | undefined;
  async function stop(o: StopOptions = {}): Promise<readonly string[]> {
    teardown.hurryWith(o.hurry);
    const report = await teardown.run();
    if (report.failed.length > 0) {
      throw new Error(
        `could not stop ${report.failed.map((f) => `${f.part} (${f.error.message})`).join(", ")}; stopped ${report.stopped.join(", ") || "nothing else"}`,
      );
    }
    return report.stopped;
  }
  return {
    start: () => {
      starting ??= run();
      return starting;
    },
    stop,
  };
}

/** A path as the user would type it from here: relative inside the current directory, else absolute. */
function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === "" || rel.startsWith("..") ? path : rel;
}

/** One error for every service that failed, each with its cause and its next step. */
function combined(failures: unknown[], stackDir: string): StartupError {
  const errors = failures.map((f) => (f instanceof Error ? f : new Error(String(f))));
  const steps = [
    ...new Set(
      errors.map((e) =>
        e instanceof StartupError
          ? e.nextStep
          : `The services' logs are under ${shortPath(stackDir)}/.`,
      ),
    ),
  ];
  return new StartupError(errors.map((e) => e.message).join("\n"), steps.join("\n  "), {
    cause: errors[0],
  });
}

/** Creates the role and database a configured loopback DATABASE_URL names, on our private cluster. */
async function ensureDatabase(instanceUrl: string, configuredUrl: string): Promise<void> {
  const want = new URL(configuredUrl);
  const database = decodeURIComponent(want.pathname.replace(/^\//, "")) || DATABASE_NAME;
  const user = decodeURIComponent(want.username) || "postgres";
  const admin = new pg.Client({
    connectionString: instanceUrl.replace(`/${DATABASE_NAME}`, "/postgres"),
  });
  await admin.connect();
  try {
    const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;
    const role = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [user]);
    if (role.rowCount === 0) await admin.query(`CREATE ROLE ${ident(user)} LOGIN`);
    const db = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (db.rowCount === 0)
      await admin.query(`CREATE DATABASE ${ident(database)} OWNER ${ident(user)}`);
  } finally {
    await admin.end();
  }
}

/** Hides a password in a URL for logs and reports. */
export function redact(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return endpoint;
  }
}
