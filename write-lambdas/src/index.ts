/**
 * What other packages use of the write path: the scripts mint command ids and read
 * the JWT settings exactly as the write API does (scripts/token.ts, the soak), so a
 * token or a soak check cannot drift from it. The Lambdas run from handlers/, the
 * local adapter from adapter/main.ts; neither goes through here.
 */
export { secretFromSecretString, secretsManagerFetcher } from "./auth/key-source";
export { commandIds } from "./commands";
export { jwtConfigSpec } from "./config";
