/**
 * The worker process: Kafka `todo-commands` -> Postgres, effectively once, then
 * the change set it publishes. `npx tsx worker/src/main.ts`; configured by environment.
 */
import { ConfigError, deprecatedVariables, loadDotEnv } from "@million-rps/shared/config";
import { collectProcessMetrics } from "@million-rps/shared/metrics";
import { createLogger } from "@million-rps/shared/pino-logger";
import { parseWorkerConfig, workerConfigSpec } from "./config";
import { startWorker } from "./worker";

loadDotEnv();
let config: ReturnType<typeof parseWorkerConfig>;
try {
  config = parseWorkerConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}

const log = createLogger("worker", { level: config.logLevel });
for (const warning of deprecatedVariables(workerConfigSpec)) log.warn(warning);
try {
  const worker = await startWorker(config, { log });
  collectProcessMetrics(worker.metrics.registry);
  const onSignal = (signal: string) => {
    log.info("signal", { signal });
    worker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error("stop failed", { err });
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  process.once("SIGINT", () => onSignal("SIGINT"));
  if ((await worker.finished) === "crashed") process.exit(1);
} catch (err) {
  log.error("worker failed to start", { err });
  process.exit(1);
}
