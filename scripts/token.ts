/**
 * Mints a dev token for the write API:
 *
 *   npm run -s token -- alice              # prints the token only (stdout)
 *   npm run -s token -- alice --ttl 600    # lifetime in seconds (default 3600)
 *
 * The HS256 key is JWT_SECRET (environment or .env); else the secret JWT_SECRET_ARN
 * names in Secrets Manager (AWS credentials from the usual chain); else the fake
 * local dev secret of .env.example, and it says so on stderr. JWT_ISSUER and
 * JWT_AUDIENCE, when set, go into the token as the write API will demand them.
 */
import { parseArgs } from "node:util";
import { loadDotEnv } from "@million-rps/shared/config";
import {
  DEV_JWT_SECRET,
  mintDevToken,
  secretFromSecretString,
  secretsManagerFetcher,
} from "@million-rps/write-lambdas";

const USAGE = "usage: npm run -s token -- <user> [--ttl <seconds>]";

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

async function signingSecret(env: NodeJS.ProcessEnv): Promise<string> {
  const secret = env.JWT_SECRET?.trim();
  if (secret) return secret;
  const arn = env.JWT_SECRET_ARN?.trim();
  if (arn) {
    process.stderr.write(`token: signing with the secret from Secrets Manager (${arn})\n`);
    const text = await secretsManagerFetcher(env.AWS_REGION, 10_000)(arn);
    return new TextDecoder().decode(secretFromSecretString(text));
  }
  if (env.JWKS_URL?.trim()) {
    fail("token: JWKS_URL is set: tokens come from your identity provider, not from this script");
  }
  process.stderr.write(
    "token: JWT_SECRET is unset: signing with the fake local dev secret from .env.example (local use only)\n",
  );
  return DEV_JWT_SECRET;
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
  const token = await mintDevToken(user, {
    secret: await signingSecret(process.env),
    ttlSec,
    ...(process.env.JWT_ISSUER?.trim() && { issuer: process.env.JWT_ISSUER.trim() }),
    ...(process.env.JWT_AUDIENCE?.trim() && { audience: process.env.JWT_AUDIENCE.trim() }),
  });
  process.stdout.write(`${token}\n`);
} catch (err) {
  fail(`token: ${err instanceof Error ? err.message : String(err)}`);
}
