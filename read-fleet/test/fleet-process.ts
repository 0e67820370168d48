/** Runs the fleet as a separate process, the way a container runs it, for tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { get } from "./helpers";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

export interface Fleet {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  stderr: string[];
  exited: Promise<number | null>;
}

/** Runs the fleet the way a container does: one supervisor process forking its uWS processes. */
export function runFleet(env: Record<string, string>): Fleet {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const fleet: Fleet = {
    child,
    lines: [],
    stderr: [],
    exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
  };
  let buffered = "";
  child.stdout?.on("data", (d: Buffer) => {
    buffered += d.toString();
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        fleet.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        fleet.lines.push({ raw: line });
      }
      nl = buffered.indexOf("\n");
    }
  });
  child.stderr?.on("data", (d: Buffer) => fleet.stderr.push(d.toString()));
  return fleet;
}

export function readyLine(fleet: Fleet) {
  return fleet.lines.find((l) => l.msg === "read fleet ready") as
    | { port: number; processes: number; pids: number[]; admin_port: number }
    | undefined;
}

export async function adminMetrics(adminPort: number): Promise<string> {
  return (await get(adminPort, "/metrics")).body.toString();
}
