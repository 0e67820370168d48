/**
 * The first line of every ESM bundle we build (the container bundles, the Lambda
 * functions, the write-lambdas bundle bench): CommonJS dependencies inlined into
 * ESM (pg, ioredis, kafkajs) call require() for Node built-ins, which ESM does not
 * define. `__cr` keeps the import's name out of the way of the bundle's own.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";
