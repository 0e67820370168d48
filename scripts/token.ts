/**
 * Mints a dev token for the write API:
 *
 *   npm run -s token -- alice              # prints the token only (stdout)
 *   npm run -s token -- alice --ttl 600    # lifetime in seconds (default 3600)
 *
 * Signed by the write API's own JWT settings (jwtConfigSpec, write-lambdas/src/config.ts),
 * read from the environment or .env: JWT_SECRET; else the secret JWT_SECRET_ARN names in
 * Secrets Manager (AWS credentials from the usual chain); with neither, nor JWKS_URL, the
 * fake local dev secret of .env.example, and it says so on stderr. JWT_ISSUER and
 * JWT_AUDIENCE, when set, go into the token as the write API will demand them.
 */
import { parseArgs } from "node:util";
import { loadDotEnv, parseConfig } from "@million-rps/shared/config";
import { mintDevToken, withDevSecret } from "@million-rps/shared/dev-token";
import {
  jwtConfigSpec,
  secretFromSecretString,
  secretsManagerFetcher,
} from "@million-rps/write-lambdas";

const USAGE = "usage: npm run -s token -- <user> [--ttl <seconds>]";

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/** The HS256 key the write API verifies with, as it would read it from `env`. */
async function signingSettings(
  env: NodeJS.ProcessEnv,
): Promise<{ secret: Uint8Array; issuer?: string; audience?: string }> {
  const dev = withDevSecret(env);
  if (dev.defaulted) {
    process.stderr.write(
      "token: JWT_SECRET is unset: signing with the fake local dev secret from .env.example (local use only)\n",
    );
  }
  const { jwt, region } = parseConfig(jwtConfigSpec, dev.env);
  const claims = {
    ...(jwt.issuer && { issuer: jwt.issuer }),
    ...(jwt.audience && { audience: jwt.audience }),
  };
  if (jwt.mode === "jwks") {
    fail("token: JWKS_URL is set: tokens come from your identity provider, not from this script");
  }
  if (jwt.mode === "secret") return { secret: jwt.secret, ...claims };
  process.stderr.write(`token: signing with the secret from Secrets Manager (${jwt.secretArn})\n`);
  const text = await secretsManagerFetcher(region, 10_000)(jwt.secretArn);
  return { secret: secretFromSecretString(text), ...claims };
}

loadDotEnv();
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { ttl: { type: "string", default: "3600" }, help: { type: "boolean", short: "h" } },
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const [user, ...extra] = positionals;
if (user === undefined || extra.length > 0) fail(USAGE);
const ttlSec = Number(values.ttl);
if (!Number.isSafeInteger(ttlSec) || ttlSec < 1 || ttlSec > 30 * 86_400) {
  fail("token: --ttl must be a whole number of seconds from 1 to 2592000");
}
try {
  const token = await mintDevToken(user, { ...(await signingSettings(process.env)), ttlSec });
  process.stdout.write(`${token}\n`);
} catch (err) {
  // A ConfigError names the variable, as the write API's would.
  fail(`token: ${err instanceof Error ? err.message : String(err)}`);
}
