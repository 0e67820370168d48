import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../src/paths";
import { canConnect, waitUntil } from "../src/testing";

// Issue 18, for the soak's private stacks (local/src/native-stack.ts, which
// schemathesis and the soak launch): a stop while the stack is still being launched
// stops everything launched so far. serve-stack.ts stops on SIGTERM, as
// scripts/schemathesis.sh sends it.

const area = `interrupt-test-${process.pid}`;
const areaDir = join(repoRoot, ".data", area);
afterAll(() => rmSync(areaDir, { recursive: true, force: true }));

function serveStack(): { child: ChildProcess; output: () => string; exited: Promise<unknown> } {
  const child = spawn(
    process.execPath,
    // An area of its own: the default one is shared with scripts/schemathesis.sh.
    [
      "--import",
      "tsx",
      "scripts/soak/serve-stack.ts",
      "--area",
      area,
      "--state",
      join(areaDir, "state.json"),
    ],
    { cwd: repoRoot, env: { ...process.env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let text = "";
  child.stdout?.on("data", (d: Buffer) => {
    text += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    text += d.toString();
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  return { child, output: () => text, exited };
}

/** Processes that inherited the area's MRPS_DATA_DIR, or name one of `ports` (an older redis-server retitles itself over its environment). */
function leftovers(ports: number[]): string[] {
  const found: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      if (
        environ.includes(`MRPS_DATA_DIR=${areaDir}`) ||
        ports.some((p) => cmd.includes(`127.0.0.1:${p}`) || cmd.includes(`--port ${p} `))
      )
        found.push(`${entry} ${cmd}`);
    } catch {}
  }
  return found;
}

describe("the soak's private stack, stopped while it is launched", () => {
  for (const [when, pattern] of [
    ["while its services start", /starting Kafka/],
    ["while its apps start", /starting the worker, the write adapter and the read fleet/],
  ] as const) {
    it(`${when}: nothing of it is left`, { timeout: 90_000 }, async () => {
      const run = serveStack();
      await waitUntil(`serve-stack to print ${pattern}`, () => pattern.test(run.output()), {
        timeoutMs: 60_000,
        intervalMs: 20,
      });
      run.child.kill("SIGTERM");
      await run.exited;
      expect(run.output()).toContain("[stack] stopping");
      const ports = [...run.output().matchAll(/on 127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
      expect(ports.length).toBeGreaterThan(0);
      const open = await Promise.all(ports.map((p) => canConnect("127.0.0.1", p)));
      expect({ leftovers: leftovers(ports), open: ports.filter((_, i) => open[i]) }).toEqual({
        leftovers: [],
        open: [],
      });
    });
  }
});
