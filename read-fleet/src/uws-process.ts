import { collectProcessMetrics } from "@million-rps/shared/metrics";
import { createLogger } from "@million-rps/shared/pino-logger";
import type { ReadFleetConfig } from "./config";
import type { ToProcess, ToSupervisor } from "./ipc";
import { startReadServer } from "./server";

function send(message: ToSupervisor): void {
  process.send?.(message);
}

/** Body of one forked uWS process: serve, answer metrics requests, drain on SIGTERM. */
export async function runUwsProcess(config: ReadFleetConfig, index: string): Promise<void> {
  const log = createLogger("read-fleet", { level: config.logLevel, base: { process: index } });
  process.on("uncaughtException", (err) => {
    log.error("uncaught exception; exiting for the supervisor to restart this process", { err });
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    log.error("unhandled rejection; exiting for the supervisor to restart this process", { err });
    process.exit(1);
  });

  const server = await startReadServer(config, { log });
  collectProcessMetrics(server.service.metrics.registry);
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info("process draining", { why, pending: server.service.pending });
    await server.close();
    log.info("process stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  // Ctrl-C reaches the whole process group: the supervisor decides, this process waits for SIGTERM.
  process.on("SIGINT", () => {});
  // The supervisor is gone: do not linger as an orphan holding the port.
  process.on("disconnect", () => void stop("supervisor disconnected"));
  process.on("message", (message: ToProcess) => {
    if (message.type === "metrics") {
      server.service.metricsJson().then(
        (metrics) => send({ type: "metrics", id: message.id, metrics }),
        (err: unknown) => log.warn("metrics collection failed", { err }),
      );
    }
  });
  send({ type: "ready", port: server.port, pid: process.pid });
  log.debug("process ready", { port: server.port, generation: server.service.generation });
}
