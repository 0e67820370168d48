import type { SoakSummary } from "./report";

const sec = (ms: number) => Math.round(ms / 100) / 10;

/** The summary as the soak prints it and stores it next to the JSON. */
export function markdown(s: SoakSummary): string {
  const lines = [
    `# Soak ${s.startedAt}: ${s.minutes} min, ${s.pass ? "PASS" : "FAIL"}`,
    "",
    `Requests: ${s.requests.reads} reads, ${s.requests.writeAttempts} write attempts` +
      ` (client back-pressure skipped ${s.requests.readsSkipped} reads, ${s.requests.writesSkipped} writes).`,
    "",
    "| fault | window (s) | what happened |",
    "|---|---|---|",
    ...s.windows.map((w) => `| ${w.kind} | ${w.fromSec}-${w.toSec} | ${w.detail} |`),
    "",
    "| route | requests | non-2xx |",
    "|---|---|---|",
    ...s.byRoute.map((r) => `| ${r.route} | ${r.requests} | ${r.non2xx} |`),
    "",
    "Non-2xx by route and phase (allowed = an answer the brief allows while that dependency is down):",
    "",
    "| route | phase | status | count | allowed |",
    "|---|---|---|---|---|",
    ...(s.non2xx.length === 0
      ? ["| - | - | - | 0 | - |"]
      : s.non2xx.map(
          (n) =>
            `| ${n.route} | ${n.phase} | ${n.status} | ${n.count} | ${n.allowed ? "yes" : "**NO**"} |`,
        )),
    "",
    "| phase | reads | read p50 ms | read p99 ms | write attempts | write p50 ms | write p99 ms |",
    "|---|---|---|---|---|---|---|",
    ...s.latency.map(
      (l) =>
        `| ${l.phase} | ${l.reads} | ${l.readP50} | ${l.readP99} | ${l.writes} | ${l.writeP50} | ${l.writeP99} |`,
    ),
    "",
    `Writes: ${s.writes.accepted} accepted (202); lost ${s.writes.lost}, doubled ${s.writes.doubled}, wrong final state ${s.writes.wrongState}, rejected ${s.writes.rejected}, idempotency-id mismatches ${s.writes.idMismatches}; abandoned ${s.writes.abandoned} (of which applied ${s.writes.abandonedApplied}); worker drained in ${sec(s.writes.drainMs)} s; stale reads after the drain ${s.writes.staleReads}.`,
    ...s.writes.examples.map((e) => `- ${e}`),
    "",
    `Violations: ${s.violations.outsideWindows} non-2xx outside fault windows (${s.violations.fiveXxOutsideWindows} of them 5xx), ${s.violations.disallowedInWindows} answers inside windows the brief does not allow.`,
    `Unexpected process exits: ${s.unexpectedExits.length === 0 ? "none" : s.unexpectedExits.map((e) => `${e.app} (code ${e.code}) at ${e.atSec} s`).join(", ")}.`,
    "",
  ];
  return lines.join("\n");
}
