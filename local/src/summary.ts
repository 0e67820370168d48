import { mintDevToken } from "@million-rps/shared/dev-token";

/** What `npm start` prints once everything is up: where to read, where to write, and how. */
export async function printSummary(opts: {
  readUrl: string;
  writeUrl: string;
  metrics: string[];
  jwtSecret: string;
}): Promise<void> {
  const token = await mintDevToken("alice", { secret: opts.jwtSecret, ttlSec: 12 * 3600 });
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
