import { availableParallelism } from "node:os";
import { readFleetProcessPids } from "@million-rps/local";
import type { Measurements } from "./measure";
import type { PipelineVerdict } from "./results";
import { fetchRaw, freePort, type ServerProcess } from "./servers";
import { say, settings } from "./settings";

/** 64 connections x 16 requests in flight for a minute: zero errors and the same uWS process alive. */
export async function pipelinedCase(
  m: Measurements,
  fleet: ServerProcess,
  port: number,
  adminPort: number,
): Promise<PipelineVerdict> {
  const processPidsBefore = readFleetProcessPids(fleet.pid);
  const r = await m.measure(
    `fleet 1 process, pipelined x${settings.pipelineDepth}`,
    fleet,
    m.wrk(port, { pipeline: settings.pipelineDepth, seconds: settings.pipelineSeconds }),
    `depth ${settings.pipelineDepth}, ${settings.pipelineSeconds} s`,
  );
  const metrics = (await fetchRaw(adminPort, "/metrics")).body.toString();
  const line = metrics.split("\n").find((l) => l.startsWith("read_fleet_process_restarts_total"));
  const restarts = line === undefined ? Number.NaN : Number(line.split(" ").pop());
  const processPidsAfter = readFleetProcessPids(fleet.pid);
  const supervisorAlive = fleet.alive();
  const ok =
    r.socketErrors === 0 &&
    r.non2xx === 0 &&
    supervisorAlive &&
    restarts === 0 &&
    processPidsAfter.length === 1 &&
    processPidsAfter.join() === processPidsBefore.join();
  say(
    `pipelined: errors ${r.socketErrors}, non-2xx ${r.non2xx}, supervisor alive ${supervisorAlive}, ` +
      `uWS process ${processPidsBefore.join(",")} -> ${processPidsAfter.join(",")}, restarts ${restarts}: ${ok ? "OK" : "FAILED"}`,
  );
  return { ok, restarts, processPidsBefore, processPidsAfter, supervisorAlive };
}

/** The whole fleet, one uWS process per CPU; nothing pinned, so wrk competes for the same cores. */
export async function wholeFleetCase(
  m: Measurements,
  main: string,
  fleetEnv: (port: number, processes: number) => Record<string, string>,
): Promise<void> {
  const processes = availableParallelism();
  const port = await freePort();
  const whole = await m.start(
    "fleet-all-processes",
    main,
    { ...fleetEnv(port, processes), ADMIN_PORT: String(await freePort()) },
    { port, pinned: false },
  );
  await m.measure(
    `fleet ${processes} processes (whole box)`,
    whole,
    { ...m.wrk(port), cpus: undefined, threads: 2, connections: settings.connections * 2 },
    `unpinned; wrk -t2 -c${settings.connections * 2} shares the same ${processes} CPUs`,
  );
  await m.stop(whole);
}
