import { createLogger, type Env, type Logger } from "@million-rps/shared";
import { type SecretFetcher, verificationKeys } from "./auth/key-source";
import { createTokenVerifier } from "./auth/token-verifier";
import type { WriteKind } from "./commands";
import { parseWriteConfig, type WriteConfig } from "./config";
import { type CommandSender, kafkaCommandSender } from "./kafka/command-sender";
import { type WriteDeps, type WriteHandler, writeHandler } from "./write-api";

/** Everything one warm container (or one local server) holds: config, key source, one producer. */
export interface WriteRuntime extends WriteDeps {
  config: WriteConfig;
  handlers: Readonly<Record<WriteKind, WriteHandler>>;
  close(): Promise<void>;
}

export interface RuntimeOverrides {
  /** Benchmarks replace Kafka with an in-process sender to time the handler alone. */
  sender?: CommandSender;
  fetchSecret?: SecretFetcher;
  log?: Logger;
}

/** Parses the config (a ConfigError names every bad variable) and wires the parts; connects nothing yet. */
export function createWriteRuntime(env: Env, overrides: RuntimeOverrides = {}): WriteRuntime {
  const config = parseWriteConfig(env);
  const log = overrides.log ?? createLogger("write-lambdas", { level: config.logLevel });
  const jwt = config.jwt;
  const keys = verificationKeys(jwt, {
    region: config.region,
    timeoutMs: config.sendTimeoutMs,
    ...(overrides.fetchSecret && { fetchSecret: overrides.fetchSecret }),
  });
  const verify = createTokenVerifier(keys, {
    ...(jwt.issuer !== undefined && { issuer: jwt.issuer }),
    ...(jwt.audience !== undefined && { audience: jwt.audience }),
    clockToleranceSec: config.clockToleranceSec,
    retryAfterSec: config.retryAfterSec,
  });
  const sender =
    overrides.sender ??
    kafkaCommandSender({
      connection: config.kafka,
      topic: config.topic,
      timeoutMs: config.sendTimeoutMs,
      log,
    });
  const deps: WriteDeps = { verify, sender, retryAfterSec: config.retryAfterSec, log };
  return {
    ...deps,
    config,
    handlers: {
      create: writeHandler("create", deps),
      update: writeHandler("update", deps),
      delete: writeHandler("delete", deps),
    },
    close: () => sender.close(),
  };
}

let coldStart: WriteRuntime | undefined;

/**
 * The Lambda entry files call this at module init: config is parsed during the
 * cold start (a bad or short secret fails the init loudly), and every invocation
 * of the warm container reuses the same key source and producer.
 */
export function lambdaHandler(kind: WriteKind): WriteHandler {
  coldStart ??= createWriteRuntime(process.env);
  return coldStart.handlers[kind];
}
