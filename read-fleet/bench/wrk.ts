import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** connect + read + write + timeout socket errors. */
  socketErrors: number;
  /** Responses outside 2xx/3xx. */
  non2xx: number;
  raw: string;
}

export interface WrkOptions {
  url: string;
  seconds: number;
  connections: number;
  threads: number;
  headers?: Record<string, string>;
  /** HTTP/1.1 pipelining depth (1: none). */
  pipeline?: number;
  /** CPU list for taskset, e.g. "1"; undefined: not pinned. */
  cpus?: string;
  /** A wrk Lua script (path) and the arguments after `--`; not combined with `pipeline`. */
  script?: string;
  scriptArgs?: readonly string[];
}

const PIPELINE_SCRIPT = fileURLToPath(new URL("./pipeline.lua", import.meta.url));

function toMs(value: string, unit: string): number {
  const n = Number(value);
  if (unit === "us") return n / 1000;
  if (unit === "s") return n * 1000;
  if (unit === "m") return n * 60_000;
  return n;
}

/** Parses wrk's summary (run with --latency). */
export function parseWrk(raw: string): WrkResult {
  const done = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(raw);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(raw);
  const p = (pct: string) => {
    const m = new RegExp(`^\\s+${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(raw);
    return m === null ? Number.NaN : toMs(m[1] as string, m[2] as string);
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(raw);
  if (done === null || rps === null) throw new Error(`could not parse wrk output:\n${raw}`);
  const seconds =
    done[3] === "ms"
      ? Number(done[2]) / 1000
      : done[3] === "m"
        ? Number(done[2]) * 60
        : Number(done[2]);
  return {
    requests: Number(done[1]),
    seconds,
    rps: Number(rps[1]),
    p50Ms: p("50"),
    p99Ms: p("99"),
    socketErrors: socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0),
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
    raw,
  };
}

export function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = [
    `-t${o.threads}`,
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    "--latency",
    "--timeout",
    "5s",
  ];
  for (const [name, value] of Object.entries(o.headers ?? {})) args.push("-H", `${name}: ${value}`);
  const pipelined = (o.pipeline ?? 1) > 1;
  if (pipelined && o.script !== undefined)
    throw new Error("wrk: pipeline and script exclude each other");
  if (pipelined) args.push("-s", PIPELINE_SCRIPT);
  else if (o.script !== undefined) args.push("-s", o.script);
  args.push(o.url);
  if (pipelined) args.push("--", String(o.pipeline));
  else if (o.script !== undefined && (o.scriptArgs ?? []).length > 0)
    args.push("--", ...(o.scriptArgs ?? []));
  const [cmd, argv] =
    o.cpus === undefined ? ["wrk", args] : ["taskset", ["-c", o.cpus, "wrk", ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`wrk exited with ${code}:\n${out}`));
      else {
        try {
          resolve(parseWrk(out));
        } catch (err) {
          reject(err);
        }
      }
    });
  });
}
