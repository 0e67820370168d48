import type { TemplatedApp, us_listen_socket } from "uWebSockets.js";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@million-rps/shared/log";
import { createLogger } from "@million-rps/shared/pino-logger";
import pg from "pg";
import type { ReadFleetConfig } from "./config";
import { loadNativeUws } from "./native-uws";
import { ReadService } from "./read-service";
import { RedisClients } from "./redis-clients";
import { registerRoutes } from "./routes";

/** `close()` exists on the native App of this build (closes every socket) but is not in its typings. */
type ClosableApp = TemplatedApp & { close?: () => void };

export interface ReadServer {
  readonly port: number;
  readonly service: ReadService;
  /** Graceful: stop accepting, let waiting requests finish (up to the grace period), close. */
  close(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
}

/** One uWS read process on `config.httpPort` (SO_REUSEPORT: several may share it). */
export async function startReadServer(
  config: ReadFleetConfig,
  options: StartOptions = {},
): Promise<ReadServer> {
  const uws = loadNativeUws();
  let openapi: Buffer;
  try {
    openapi = readFileSync(config.openapiPath);
  } catch (err) {
    throw new Error(`OPENAPI_PATH: cannot read ${config.openapiPath}`, { cause: err });
  }
  const log = options.log ?? createLogger("read-fleet", { level: config.logLevel });
  const db = new pg.Pool({
    connectionString: config.databaseUrl,
    max: config.dbPoolSize,
    connectionTimeoutMillis: config.dbTimeoutMs,
    query_timeout: config.dbTimeoutMs,
    statement_timeout: config.dbTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: "read-fleet",
  });
  db.on("error", (err) => log.warn("idle Postgres connection failed", { err }));
  let lastRedisError = 0;
  const redis = new RedisClients(config, (err) => {
    // ioredis reports every reconnect attempt; one line per 5 s is enough.
    if (Date.now() - lastRedisError > 5_000) log.warn("redis connection error", { err });
    lastRedisError = Date.now();
  });
  const service = new ReadService({ config, db, redis, log });
  await service.start();
  // Before the port: uWS closes a pipelined connection whose answer must wait, so the
  // pages everyone asks for first are held before the first request can ask.
  const warm = await service.warm(config.hotPages);
  log.debug("hot pages loaded", { pages: warm });

  const app: ClosableApp = uws.App();
  registerRoutes(app, service, openapi);
  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen(config.httpHost, config.httpPort, (token) => {
      if (token) resolve(token);
      else reject(new Error(`could not listen on ${config.httpHost}:${config.httpPort}`));
    });
  });
  const port = uws.us_socket_local_port(listenSocket);

  let closing: Promise<void> | undefined;
  async function close(graceMs = config.shutdownGraceMs): Promise<void> {
    closing ??= (async () => {
      service.draining = true;
      uws.us_listen_socket_close(listenSocket);
      const deadline = Date.now() + graceMs;
      while (service.pending > 0 && Date.now() < deadline) {
        await sleep(10);
      }
      app.close?.();
      service.stop();
      redis.close();
      await db.end().catch(() => {});
    })();
    return closing;
  }

  return { port, service, close };
}
