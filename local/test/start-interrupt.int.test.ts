import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../src/paths";
import { removePostgresData } from "../src/postgres-home";
import { GiveUp } from "../src/proc";
import { canConnect, waitUntil } from "../src/testing";

// Regression for issue 18: Ctrl-C during `npm start`'s start-up left Postgres, Redis
// and Kafka running, and the next start took them for the user's own services. Each
// case runs the real `npm start` in a process group of its own, with every port free
// and its data in a private temporary directory (never a developer's stack), and
// checks what is left afterwards without asking the harness: listening ports, and
// every process that inherited this test's MRPS_DATA_DIR (all of npm start's
// descendants do, re-parented or not).

const dataRoot = mkdtempSync(join(tmpdir(), "mrps-interrupt-")); // mode 0700, as issue 12 wants
// The Kafka jars resolved under the repository's .data, reused as scripts/soak does.
mkdirSync(join(repoRoot, ".data", "kafka-jars"), { recursive: true });
symlinkSync(join(repoRoot, ".data", "kafka-jars"), join(dataRoot, "kafka-jars"));

/** True when nothing listens on 127.0.0.1:port and we may bind it. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * Free ports below Linux's ephemeral range (32768+), where the OS hands out ports to
 * other programs' `listen(0)` and outgoing connections: a port picked there can be
 * taken by someone else during this file's minute of runs. The dev profile's Kafka
 * controller listens on its port + 1, so each pick leaves room for that.
 */
const taken = new Set<number>();
async function quietPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000) * 2;
    if (taken.has(port) || taken.has(port + 1)) continue;
    if ((await bindable(port)) && (await bindable(port + 1))) {
      taken.add(port).add(port + 1);
      return port;
    }
  }
}

const ports = {
  http: await quietPort(),
  write: await quietPort(),
  admin: await quietPort(),
  workerAdmin: await quietPort(),
  postgres: await quietPort(),
  redis: await quietPort(),
  kafka: await quietPort(),
};
const allPorts = [...Object.values(ports), ports.kafka + 1];

const startEnv: Record<string, string> = {
  MRPS_DATA_DIR: dataRoot,
  HTTP_PORT: String(ports.http),
  WRITE_HTTP_PORT: String(ports.write),
  ADMIN_PORT: String(ports.admin),
  WORKER_ADMIN_PORT: String(ports.workerAdmin),
  DATABASE_URL: `postgres://postgres@127.0.0.1:${ports.postgres}/million_rps`,
  REDIS_URL: `redis://127.0.0.1:${ports.redis}/0`,
  KAFKA_BROKERS: `127.0.0.1:${ports.kafka}`,
  READ_PROCESSES: "1",
  KAFKA_PARTITIONS: "2",
  LOG_LEVEL: "warn",
};

interface StartRun {
  child: ChildProcess;
  output(): string;
  /** Resolves once a line matching `pattern` was printed; rejects if npm start exits first. */
  printed(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

function npmStart(...args: string[]): StartRun {
  // detached: a process group of its own, like a terminal's foreground job.
  const child = spawn("npm", ["start", ...(args.length > 0 ? ["--", ...args] : [])], {
    cwd: repoRoot,
    env: { ...process.env, ...startEnv },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout?.on("data", (d: Buffer) => {
    text += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    text += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    child,
    output: () => text,
    exited,
    async printed(pattern, timeoutMs = 100_000) {
      try {
        await waitUntil(
          `npm start to print ${pattern}`,
          () => {
            if (pattern.test(text)) return true;
            if (done) throw new GiveUp(`npm start exited before printing ${pattern}`);
            return false;
          },
          { timeoutMs, intervalMs: 20 },
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}; it printed:\n${text}`);
      }
    },
  };
}

/**
 * Live processes of this test's npm starts: those that inherited its MRPS_DATA_DIR
 * (npm start and everything it started, re-parented or not), and those whose command
 * line names one of its ports (an older redis-server overwrites its environment with a title).
 */
function processesOfThisTest(): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue; // exited, not yet reaped
      const environ = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      if (
        environ.includes(`MRPS_DATA_DIR=${dataRoot}`) ||
        allPorts.some(
          (port) => cmd.includes(`127.0.0.1:${port}`) || cmd.includes(`--port ${port} `),
        )
      )
        found.push({ pid: Number(entry), cmd });
    } catch {} // ended while we looked
  }
  return found;
}

async function listeningPorts(): Promise<number[]> {
  const open = await Promise.all(allPorts.map((p) => canConnect("127.0.0.1", p)));
  return allPorts.filter((_, i) => open[i]);
}

async function expectNothingLeft(run: StartRun): Promise<void> {
  expect({ processes: processesOfThisTest(), ports: await listeningPorts() }, run.output()).toEqual(
    { processes: [], ports: [] },
  );
}

/** Ctrl-C as a terminal sends it: SIGINT to npm start's whole process group. */
function interrupt(run: StartRun): void {
  if (run.child.pid !== undefined) process.kill(-run.child.pid, "SIGINT");
}

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

afterAll(async () => {
  // Whatever a failed case left: stop it, so a failure never leaves a stack behind.
  for (const p of processesOfThisTest()) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {}
  }
  await sleep(200);
  removePostgresData(join(dataRoot, "dev", "postgres"));
  rmSync(dataRoot, { recursive: true, force: true });
});

describe("Ctrl-C during npm start's start-up stops everything it started", () => {
  // In the order the start-up reaches them. The seed runs on the first start that gets
  // that far, so the cases after it find the todos seeded and go on to the apps.
  const points: [string, RegExp][] = [
    ["while the services start", /starting Kafka/],
    ["during the migrations", /\[2\/7\] schema migrations/],
    ["while seeding", /\[4\/7\] seed data/],
    ["while the worker starts", /\[5\/7\] worker/],
    ["while the read fleet starts", /\[7\/7\] read fleet/],
  ];
  for (const [when, pattern] of points) {
    // The waits inside end before the test's own timeout, so a failure shows what npm start printed.
    it(`${when}`, { timeout: 180_000 }, async () => {
      const run = npmStart();
      await run.printed(pattern, 100_000);
      interrupt(run);
      const code = await within(60_000, "the stop", run.exited);
      expect(run.output()).toContain("stopping what this command started");
      expect(code, run.output()).toBe(0);
      await expectNothingLeft(run);
    });
  }
});

/** The node process running start.ts (npm's child: npm execs it past its shell). */
function startScriptPid(): number {
  const found = processesOfThisTest().filter((p) => p.cmd.includes("local/src/start.ts"));
  if (found.length !== 1) throw new Error(`expected one start.ts process, found ${found.length}`);
  return (found[0] as { pid: number }).pid;
}

/** Kills npm start's own process (SIGKILL: no chance to stop anything) once the worker is up. */
async function killMidStart(): Promise<void> {
  const run = npmStart();
  await run.printed(/\[6\/7\] write API/);
  process.kill(startScriptPid(), "SIGKILL");
  await within(30_000, "the killed start to exit", run.exited);
  // The services were in process groups of their own: SIGKILL left them running.
  expect(await listeningPorts()).toEqual(
    expect.arrayContaining([ports.postgres, ports.redis, ports.kafka]),
  );
}

/** Starts again: it must name the leftovers, stop them, come up on its own services, and serve. */
async function startAfterKill(leftovers: readonly string[]): Promise<StartRun> {
  const run = npmStart();
  await run.printed(/million-rps is up/, 150_000);
  const out = run.output();
  expect(out).toMatch(/found .* still running from an earlier run \(pid \d+\)/);
  for (const part of leftovers)
    expect(out).toMatch(new RegExp(`found .*${part} \\(pid \\d+\\).* still running`));
  expect(out).not.toMatch(/postgres: using|redis: using|kafka: using/);
  const res = await fetch(`http://127.0.0.1:${ports.http}/todos?limit=3`);
  expect(res.status).toBe(200);
  expect(((await res.json()) as unknown[]).length).toBe(3);
  return run;
}

async function ctrlCLeavesNothing(run: StartRun): Promise<void> {
  interrupt(run);
  expect(await within(60_000, "the stop", run.exited), run.output()).toBe(0);
  expect(run.output()).toMatch(/stopped Postgres \(pid \d+, port \d+\)/);
  await expectNothingLeft(run);
}

describe("after npm start was killed (SIGKILL) mid-start", () => {
  it("the next start recognises the leftovers, stops them, comes up, and Ctrl-C leaves nothing", {
    timeout: 180_000,
  }, async () => {
    await killMidStart();
    const second = await startAfterKill(["Postgres", "Redis", "Kafka"]);
    await ctrlCLeavesNothing(second);
    expect(existsSync(join(dataRoot, "dev", "postgres"))).toBe(true); // the dev data is kept
  });

  // The README's "start over": remove .data/dev. The pid files go with it; the leftovers
  // are still recognised (by the marks in their environment), and Postgres starts empty
  // instead of reviving a cluster whose files were removed under it.
  it("the same after the data directory was removed meanwhile", { timeout: 180_000 }, async () => {
    await killMidStart();
    rmSync(join(dataRoot, "dev"), { recursive: true, force: true });
    // Kafka halts by itself once its log directory is gone; Postgres (its cluster lives
    // on under /var/tmp when relocated, or keeps its open files) and Redis stay up.
    const second = await startAfterKill(["Postgres", "Redis"]);
    expect(second.output()).toMatch(/seeding .* 10000\/10000/);
    await ctrlCLeavesNothing(second);
  });
});

describe("a second npm start while the first still runs", () => {
  it("uses the first one's services, says whose they are, and leaves them to it", {
    timeout: 180_000,
  }, async () => {
    const first = npmStart("--services-only");
    await first.printed(/Services are up/);
    const second = npmStart();
    await second.printed(/million-rps is up/, 150_000);
    expect(second.output()).toMatch(
      /postgres: using .* \(started by the run with pid \d+, still running\)/,
    );
    interrupt(second);
    expect(await within(60_000, "the second stop", second.exited)).toBe(0);
    expect(second.output()).not.toMatch(/stopped (Postgres|Redis|Kafka)/);
    // Still the first one's, still up.
    expect(await listeningPorts()).toEqual(
      expect.arrayContaining([ports.postgres, ports.redis, ports.kafka]),
    );
    interrupt(first);
    expect(await within(60_000, "the first stop", first.exited)).toBe(0);
    expect(first.output()).toMatch(/stopped Kafka .*\n.*stopped Redis .*\n.*stopped Postgres/);
    await expectNothingLeft(first);
  });
});
