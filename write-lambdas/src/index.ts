/** The write path: Lambda handlers (see handlers/), their runtime, and the local HTTP adapter. */

export { startWriteServer, type WriteServer, type WriteServerOptions } from "./adapter/server";
export {
  type SecretFetcher,
  secretFromSecretString,
  secretsManagerFetcher,
  verificationKeys,
} from "./auth/key-source";
export { type Caller, createTokenVerifier, type TokenVerifier } from "./auth/token-verifier";
export { buildCommand, commandIds, type WriteKind } from "./commands";
export {
  type JwtSettings,
  jwtConfigSpec,
  parseWriteConfig,
  readJwtSettings,
  type WriteConfig,
} from "./config";
export { BODY_MAX_BYTES } from "./http/request";
export type { WriteResponse } from "./http/response";
export { type CommandSender, kafkaCommandSender } from "./kafka/command-sender";
export { createWriteRuntime, type WriteRuntime } from "./runtime";
export type { WriteHandler } from "./write-api";
