import { chownSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { canConnect, MissingBinaryError, run, waitUntil } from "./proc";

/** A private Postgres cluster in a data directory of ours, on its own port. */
export interface PostgresInstance {
  readonly name: "postgres";
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  start(): Promise<void>;
  stop(mode?: "fast" | "immediate"): Promise<void>;
}

function binDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "pg_ctl")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const v = versions[0];
  if (v === undefined) throw new MissingBinaryError("pg_ctl", "postgresql");
  return join(root, v, "bin");
}

const isRoot = process.getuid?.() === 0;

/** Postgres refuses to run as root: run its tools as the `postgres` user then. */
function asOwner(bin: string, args: string[]): [string, string[]] {
  return isRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
}

export const DATABASE_NAME = "million_rps";

export function postgresInstance(dataDir: string, port: number): PostgresInstance {
  const bin = binDir();
  const pgdata = join(dataDir, "pgdata");
  const logFile = join(dataDir, "postgres.log");
  const url = `postgres://postgres@127.0.0.1:${port}/${DATABASE_NAME}`;

  async function init(): Promise<void> {
    if (existsSync(join(pgdata, "PG_VERSION"))) return;
    rmSync(pgdata, { recursive: true, force: true });
    if (isRoot) {
      // The postgres user must own its data directory and be able to write the log.
      const { uid, gid } = statOfUser("postgres");
      chownSync(dataDir, uid, gid);
    }
    const [cmd, args] = asOwner(join(bin, "initdb"), [
      "-D",
      pgdata,
      "-U",
      "postgres",
      "--auth=trust",
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync",
    ]);
    await run(cmd, args);
    // Loopback TCP only, no socket in /var/run; durability settings relaxed for a local box.
    writeFileSync(
      join(pgdata, "postgresql.auto.conf"),
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
    if (isRoot) {
      const { uid, gid } = statOfUser("postgres");
      chownSync(join(pgdata, "postgresql.auto.conf"), uid, gid);
    }
  }

  async function start(): Promise<void> {
    await init();
    if (!(await canConnect("127.0.0.1", port))) {
      const [cmd, args] = asOwner(join(bin, "pg_ctl"), [
        "start",
        "-D",
        pgdata,
        "-l",
        logFile,
        "-w",
        "-t",
        "60",
        "-o",
        `-p ${port}`,
      ]);
      try {
        await run(cmd, args);
      } catch (err) {
        throw new Error(`Postgres did not start on port ${port}; see ${logFile}`, { cause: err });
      }
    }
    await waitUntil(`Postgres on 127.0.0.1:${port}`, async () => {
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
    });
  }

  async function stop(mode: "fast" | "immediate" = "fast"): Promise<void> {
    if (!existsSync(join(pgdata, "postmaster.pid"))) return;
    const [cmd, args] = asOwner(join(bin, "pg_ctl"), [
      "stop",
      "-D",
      pgdata,
      "-m",
      mode,
      "-w",
      "-t",
      "60",
    ]);
    await run(cmd, args, { allowFail: true });
  }

  return { name: "postgres", url, port, dataDir, start, stop };
}

function statOfUser(user: string): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${user}:`));
  if (line === undefined) throw new MissingBinaryError(`the "${user}" user`, "postgresql");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}
