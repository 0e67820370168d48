import { join } from "node:path";
import { treeCpuSeconds } from "./cpu";
import type { CaseResult } from "./report";
import { freePort, HERE, type ServerProcess, startServer } from "./servers";
import { say, settings } from "./settings";
import { runWrk, type WrkOptions } from "./wrk";

/** Runs wrk against servers and records each case with the server's CPU time per request. */
export class Measurements {
  readonly cases: CaseResult[] = [];
  private readonly running = new Set<ServerProcess>();

  /** `sidecars`: processes on the server side (Redis) whose CPU time also counts per request. */
  constructor(
    private readonly logDir: string,
    private readonly sidecars: readonly number[] = [],
  ) {}

  private sidecarCpuSeconds(): number {
    return this.sidecars.reduce((sum, pid) => sum + treeCpuSeconds(pid), 0);
  }

  wrk(port: number, extra: Partial<WrkOptions> = {}): WrkOptions {
    return {
      url: `http://127.0.0.1:${port}${settings.path}`,
      seconds: settings.seconds,
      connections: settings.connections,
      threads: 1,
      cpus: settings.wrkCpu,
      ...extra,
    };
  }

  /** Round the next measurements belong to. */
  round = 1;

  async measure(
    name: string,
    server: ServerProcess,
    o: WrkOptions,
    note = "",
  ): Promise<CaseResult> {
    await runWrk({ ...o, seconds: settings.warmSeconds });
    const before = treeCpuSeconds(server.pid);
    const sidecarsBefore = this.sidecarCpuSeconds();
    const { raw: _raw, ...r } = await runWrk(o);
    const cpuSeconds = treeCpuSeconds(server.pid) - before;
    const sidecarSeconds = this.sidecarCpuSeconds() - sidecarsBefore;
    const c: CaseResult = {
      name,
      round: this.round,
      server: server.name,
      note,
      ...r,
      cpuSeconds,
      cpuUsPerRequest: (cpuSeconds * 1e6) / Math.max(1, r.requests),
      systemCpuUsPerRequest: ((cpuSeconds + sidecarSeconds) * 1e6) / Math.max(1, r.requests),
    };
    this.cases.push(c);
    say(
      `${name}${this.round > 1 ? ` (round ${this.round})` : ""}: ${c.rps.toFixed(0)} req/s, p99 ${c.p99Ms.toFixed(2)} ms, ` +
        `${c.cpuUsPerRequest.toFixed(2)} µs CPU/req (${c.systemCpuUsPerRequest.toFixed(2)} with Redis), errors ${c.socketErrors}, non-2xx ${c.non2xx}`,
    );
    return c;
  }

  async start(
    name: string,
    script: string,
    env: Record<string, string>,
    opts: { pinned?: boolean; port?: number; readyPath?: string } = {},
  ): Promise<ServerProcess> {
    const server = await startServer({
      name,
      script: script.startsWith("/") ? script : join(HERE, script),
      port: opts.port ?? (await freePort()),
      env,
      cpus: opts.pinned === false ? undefined : settings.serverCpu,
      logDir: this.logDir,
      ...(opts.readyPath === undefined ? {} : { readyPath: opts.readyPath }),
    });
    this.running.add(server);
    return server;
  }

  async stop(server: ServerProcess): Promise<void> {
    await server.stop();
    this.running.delete(server);
  }

  /** Starts a reference server, runs `body` against it, stops it. */
  async withServer<T>(
    name: string,
    script: string,
    env: Record<string, string>,
    body: (server: ServerProcess) => Promise<T>,
  ): Promise<T> {
    const server = await this.start(name, script, env);
    try {
      return await body(server);
    } finally {
      await this.stop(server);
    }
  }

  async stopAll(): Promise<void> {
    for (const s of this.running) await s.stop();
    this.running.clear();
  }
}
