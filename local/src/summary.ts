import { SignJWT } from "jose";

/**
 * The local stack's JWT secret when JWT_SECRET is unset: obviously fake, the same
 * value as .env.example, accepted only by the local write adapter.
 */
export const DEV_JWT_SECRET = "dev-only-fake-secret-change-me-0123456789abcdef";

/** A dev token for `sub`, HS256 with the local secret, valid for 12 hours. */
export function mintDevToken(secret: string, sub: string, ttl = "12h"): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(new TextEncoder().encode(secret));
}

/** What `npm start` prints once everything is up: where to read, where to write, and how. */
export async function printSummary(opts: {
  readUrl: string;
  writeUrl: string;
  metrics: string[];
  jwtSecret: string;
}): Promise<void> {
  const token = await mintDevToken(opts.jwtSecret, "alice");
  const r = opts.readUrl;
  const w = opts.writeUrl;
  const lines = [
    "",
    "million-rps is up.",
    `  reads   ${r}   (read fleet: GET /todos, /todos/:id, /commands/:id)`,
    `  writes  ${w}   (write API: POST/PUT/PATCH/DELETE /todos)`,
    `  metrics ${opts.metrics.join("  ")}`,
    "",
    "A dev token for user alice (12 h; `npm run token -- <user>` mints others):",
    `  export TOKEN=${token}`,
    "",
    "Try it:",
    `  curl -s '${r}/todos?limit=3'`,
    `  curl -si '${r}/todos?limit=2' | grep -i '^link'        # next page cursor`,
    `  curl -s -H 'Accept-Encoding: gzip' '${r}/todos' | gunzip | head -c 300; echo`,
    `  curl -s -X POST '${w}/todos' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"title":"buy milk"}'`,
    '      # -> 202 {"command_id":"...","id":"...","status":"accepted"}; then, with those ids:',
    `  curl -s '${r}/commands/<command_id>'                     # pending -> applied`,
    `  curl -s '${r}/todos/<id>'`,
    `  curl -s -X PATCH '${w}/todos/<id>' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"completed":true}'`,
    `  curl -s -X DELETE '${w}/todos/<id>' -H "Authorization: Bearer $TOKEN"`,
    "",
    `Benchmark: scripts/benchmark.sh ${r} 10 100`,
    "Logs: .data/dev/logs/*.log    Stop: Ctrl-C",
  ];
  console.log(lines.join("\n"));
}
