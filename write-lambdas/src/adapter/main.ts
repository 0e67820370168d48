/**
 * The local write API: `npx tsx write-lambdas/src/adapter/main.ts`. Real HTTP on
 * WRITE_HTTP_PORT (default 8081), API Gateway v2 events, the Lambda handlers.
 */
import { ConfigError, int, loadDotEnv, parseConfig, str, vars } from "@million-rps/shared/config";
import { withDevSecret } from "@million-rps/shared/dev-token";
import { createLogger } from "@million-rps/shared/pino-logger";
import { startWriteServer } from "./server";

loadDotEnv();
// At info until LOG_LEVEL is read: a bad one is then logged as invalid configuration.
let log = createLogger("write-http", { level: "info" });

async function main(): Promise<void> {
  const local = parseConfig({
    port: int("WRITE_HTTP_PORT", 8081, 0, 65535),
    host: str("WRITE_HTTP_HOST", "127.0.0.1"),
    logLevel: vars.logLevel,
  });
  log = createLogger("write-http", { level: local.logLevel });
  const { env, defaulted } = withDevSecret(process.env);
  if (defaulted) {
    log.warn("no JWT setting: using the fake local dev secret from .env.example (never on AWS)");
  }
  const server = await startWriteServer({ env, port: local.port, host: local.host, log });
  const { config } = server.runtime;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    server.close().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error("stop failed", { err });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  log.info("ready", {
    url: server.url,
    port: server.port,
    topic: config.topic,
    kafka: config.kafka.brokers ?? config.kafka.mskClusterArn,
    jwt: config.jwt.mode,
  });
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) log.error("invalid configuration", { problems: err.problems });
  else log.error("failed to start", { err });
  process.exit(1);
});
