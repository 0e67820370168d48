import { chownSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import pg from "pg";
import { aptInstallCommand, lastLines, MissingBinaryError, StartupError } from "./errors";
import { ownedEnv } from "./owned-processes";
import {
  type PostgresHome,
  type PostgresUser,
  preparePostgresHome,
  removePostgresData,
} from "./postgres-home";
import { run, waitUntil, which } from "./proc";
import { recordedProcess, writeProcessRecord } from "./process-record";
import { type StopOptions, throwIfStopping } from "./teardown";

/** A private Postgres cluster in a data directory of ours, on its own port. */
export interface PostgresInstance {
  readonly name: "postgres";
  readonly url: string;
  readonly port: number;
  /** The data directory asked for; as root in a private clone the cluster itself may live elsewhere (see `home`). */
  readonly dataDir: string;
  /** Where the cluster and its log really are, once `start` has run. */
  home(): PostgresHome | undefined;
  /** Starts the cluster (making it on first use); an aborted `signal` gives up between steps. */
  start(signal?: AbortSignal): Promise<void>;
  /** Stops the cluster if it runs (a second Ctrl-C, `hurry`, makes it immediate). */
  stop(mode?: "fast" | "immediate", options?: StopOptions): Promise<void>;
  /** The postmaster's pid while the cluster runs. */
  pid(): number | null;
  /** Removes the cluster's files wherever they are (call after `stop`). */
  removeData(): void;
}

/** The directory of initdb and pg_ctl: Debian's newest /usr/lib/postgresql/<v>/bin, else whatever is on PATH. */
export function findPostgresBin(): string | null {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "pg_ctl")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const v = versions[0];
  if (v !== undefined) return join(root, v, "bin");
  const onPath = which("pg_ctl");
  return onPath === null ? null : dirname(onPath);
}

const isRoot = process.getuid?.() === 0;

/** Postgres refuses to run as root: then its tools run as the `postgres` user. Null: as ourselves. */
function postgresUser(): PostgresUser | null {
  if (!isRoot) return null;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  if (line === undefined)
    throw new StartupError(
      'there is no "postgres" user to run Postgres as (Postgres refuses to run as root)',
      `Install the Debian package that creates it: ${aptInstallCommand(["postgresql"])}.`,
    );
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

export const DATABASE_NAME = "million_rps";

export function postgresInstance(dataDir: string, port: number): PostgresInstance {
  const binDir = findPostgresBin();
  if (binDir === null) throw new MissingBinaryError("pg_ctl", "postgresql");
  const bin = binDir;
  const url = `postgres://postgres@127.0.0.1:${port}/${DATABASE_NAME}`;
  const recordFile = join(dataDir, "postgres.pid");
  let home: PostgresHome | undefined;

  /**
   * Runs a Postgres tool as the cluster's user, marked as ours. As root it starts in
   * `/`: the postgres user may not be able to enter the directory we were started from.
   */
  function tool(name: string, args: string[], allowFail = false) {
    const cmd = isRoot ? "runuser" : join(bin, name);
    const argv = isRoot ? ["-u", "postgres", "--", join(bin, name), ...args] : args;
    return run(cmd, argv, {
      ...(isRoot && { cwd: "/" }),
      env: { ...process.env, ...ownedEnv("postgres", dataDir) },
      allowFail,
    });
  }

  async function init(h: PostgresHome, runAs: PostgresUser | null): Promise<void> {
    if (existsSync(join(h.pgdata, "PG_VERSION"))) return;
    rmSync(h.pgdata, { recursive: true, force: true }); // half made by an initdb that was interrupted
    try {
      await tool("initdb", [
        "-D",
        h.pgdata,
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
      ]);
    } catch (err) {
      throw new StartupError(
        `initdb could not create a cluster in ${h.pgdata}: ${lastLines((err as Error).message, 3)}`,
        "Fix the cause above (disk space, permissions), then start again.",
        { cause: err },
      );
    }
    // Loopback TCP only, no socket in /var/run; durability settings relaxed for a local box.
    const conf = join(h.pgdata, "postgresql.auto.conf");
    writeFileSync(
      conf,
      [
        "listen_addresses = '127.0.0.1'",
        `port = ${port}`,
        "unix_socket_directories = ''",
        "max_connections = 200",
        "fsync = off",
        "synchronous_commit = off",
        "full_page_writes = off",
        "shared_buffers = 256MB",
        "log_min_messages = warning",
        "",
      ].join("\n"),
    );
    if (runAs !== null) chownSync(conf, runAs.uid, runAs.gid);
  }

  /** pg_ctl status: 0 when a server runs on this data directory. */
  async function running(h: PostgresHome): Promise<boolean> {
    if (!existsSync(join(h.pgdata, "postmaster.pid"))) return false;
    return (await tool("pg_ctl", ["status", "-D", h.pgdata], true)).code === 0;
  }

  function postmasterPid(pgdata: string): number | null {
    try {
      const pid = Number(readFileSync(join(pgdata, "postmaster.pid"), "utf8").split("\n")[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  async function start(signal?: AbortSignal): Promise<void> {
    throwIfStopping(signal);
    const runAs = postgresUser();
    home = preparePostgresHome(dataDir, runAs);
    const h = home;
    // initdb and pg_ctl run to the end even when a stop arrives: interrupted, they leave a
    // cluster that is half made or half started; the stop then finds what they made.
    await init(h, runAs);
    throwIfStopping(signal);
    if (!(await running(h))) {
      const started = await tool(
        "pg_ctl",
        ["start", "-D", h.pgdata, "-l", h.logFile, "-w", "-t", "60", "-o", `-p ${port}`],
        true,
      );
      if (started.code !== 0) {
        const log = existsSync(h.logFile) ? readFileSync(h.logFile, "utf8") : started.stderr;
        throw new StartupError(
          `Postgres did not start on 127.0.0.1:${port}: ${lastLines(log, 3)}`,
          `Its whole log is ${h.logFile}. If another program holds port ${port}, point DATABASE_URL at a free port.`,
        );
      }
      const pid = postmasterPid(h.pgdata);
      if (pid !== null)
        writeProcessRecord(recordFile, pid, { part: "postgres", command: "postgres", port });
    }
    await waitUntil(
      `Postgres on 127.0.0.1:${port} (log: ${h.logFile})`,
      async () => {
        const client = new pg.Client({
          connectionString: url.replace(`/${DATABASE_NAME}`, "/postgres"),
        });
        await client.connect();
        try {
          const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [
            DATABASE_NAME,
          ]);
          if (rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE_NAME}`);
        } finally {
          await client.end();
        }
        return true;
      },
      { signal },
    );
  }

  async function stop(
    mode: "fast" | "immediate" = "fast",
    { hurry }: StopOptions = {},
  ): Promise<void> {
    // Before `start` ran here (an instance made to stop another process's cluster), the
    // data directory's `pgdata` is the cluster or the link to where it lives.
    const pgdata = home?.pgdata ?? join(dataDir, "pgdata");
    if (!existsSync(join(pgdata, "postmaster.pid"))) return;
    const stopWith = (m: string) =>
      tool("pg_ctl", ["stop", "-D", pgdata, "-m", m, "-w", "-t", "60"], true);
    // A second Ctrl-C while the fast stop waits: an immediate stop on top of it.
    const onHurry = () => void stopWith("immediate");
    const effective = hurry?.aborted ? "immediate" : mode;
    hurry?.addEventListener("abort", onHurry, { once: true });
    try {
      await stopWith(effective);
    } finally {
      hurry?.removeEventListener("abort", onHurry);
    }
    rmSync(recordFile, { force: true });
  }

  return {
    name: "postgres",
    url,
    port,
    dataDir,
    home: () => home,
    start,
    stop,
    pid: () => recordedProcess(recordFile)?.pid ?? null,
    removeData: () => removePostgresData(dataDir),
  };
}
