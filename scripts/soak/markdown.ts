import type { SoakSummary } from "./report";

const sec = (ms: number) => Math.round(ms / 100) / 10;

/** The summary as the soak prints it and stores it next to the JSON. */
export function markdown(s: SoakSummary): string {
  const r = s.rates;
  const p = s.pipeline;
  const load = s.load;
  const lines = [
    `# Soak ${s.startedAt}: ${s.minutes} min, ${s.pass ? "PASS" : "FAIL"}`,
    "",
    `Asked for: ${s.target.reads} reads/s (${s.target.pipelined} of them pipelined), ${s.target.writes} writes/s.`,
    `Requests: ${s.requests.reads} reads (${s.requests.pipelinedReads} pipelined), ${s.requests.writeAttempts} write attempts` +
      ` (client back-pressure skipped ${s.requests.readsSkipped} reads, ${s.requests.pipelinedSkipped} pipelined reads, ${s.requests.writesSkipped} writes).`,
    "",
    `| achieved, per second | all ${r.trafficSec} s | steady ${r.steadySec} s (outside fault windows) |`,
    "|---|---|---|",
    `| reads answered | ${r.reads.all} | ${r.reads.steady} |`,
    `| of which pipelined | ${r.pipelinedReads.all} | ${r.pipelinedReads.steady} |`,
    `| write attempts | ${r.writeAttempts.all} | ${r.writeAttempts.steady} |`,
    `| writes accepted (202) | ${r.writesAccepted.all} | ${r.writesAccepted.steady} |`,
    "",
    ...(load === undefined
      ? []
      : [
          `CPU over ${load.seconds} s of traffic (% of one core; the machine has ${load.cores} cores, load average ${load.loadAvgAtStart} when traffic started): soak client ${load.clientCpuPct}%, event-loop delay p50 ${load.eventLoopDelayMs.p50} ms, p99 ${load.eventLoopDelayMs.p99} ms, max ${load.eventLoopDelayMs.max} ms; ` +
            `stack ${Object.entries(load.stackCpuPct)
              .map(([part, pct]) => `${part} ${pct}%`)
              .join(", ")}; whole machine ${load.machineCpuPct}%.`,
          "",
        ]),
    ...(p === undefined
      ? []
      : [
          `Pipelined readers: ${p.connections} connections, bursts of ${p.depth} GETs in one write (deepest ${p.maxOutstanding} in flight); ${p.sent} sent, ${p.answered} answered; connections closed by the server ${p.closedByServer} (${p.closesOutsideReadWorker} outside a read-worker window), requests unanswered ${p.unanswered}, still unanswered at the end ${p.unansweredAtEnd}; framing errors ${p.framingErrors}; connect errors ${p.connectErrors}; \`Connection: close\` answers ${p.connectionCloseHeaders}.`,
          "",
        ]),
    ...(p === undefined || p.closes.length === 0
      ? []
      : [
          `Server closes (s since traffic began; unanswered; answered before; idle ms): ${p.closes
            .map((c) => `${sec(c.t)} s: ${c.unanswered}/${c.answered ?? "?"}/${c.idleMs ?? "?"}`)
            .join(", ")}.`,
          "",
        ]),
    "| fault | window (s) | what happened |",
    "|---|---|---|",
    ...s.windows.map((w) => `| ${w.kind} | ${w.fromSec}-${w.toSec} | ${w.detail} |`),
    "",
    "| window | what it allows (anything else must be 2xx) |",
    "|---|---|",
    ...s.allows.map((a) => `| ${a.kind} | ${a.allows} |`),
    "| any | a 409 with Retry-After to a write retried after an attempt that got no answer |",
    "",
    "| route | requests | non-2xx |",
    "|---|---|---|",
    ...s.byRoute.map((x) => `| ${x.route} | ${x.requests} | ${x.non2xx} |`),
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
    "Timeline (by when each exchange started):",
    "",
    "| from s | faults | reads/s | read p99 ms | write attempts/s | accepted/s | write p99 ms | non-2xx |",
    "|---|---|---|---|---|---|---|---|",
    ...s.timeline.map(
      (b) =>
        `| ${b.fromSec} | ${b.faults || "-"} | ${b.readsPerSec} | ${b.readP99} | ${b.writeAttemptsPerSec} | ${b.acceptedPerSec} | ${b.writeP99} | ${b.non2xx} |`,
    ),
    "",
    `Writes: ${s.writes.accepted} accepted (202); lost ${s.writes.lost}, doubled ${s.writes.doubled}, wrong final state ${s.writes.wrongState}, rejected ${s.writes.rejected}, idempotency-id mismatches ${s.writes.idMismatches}, key reused (422) ${s.writes.keyReused}; abandoned ${s.writes.abandoned} (of which applied ${s.writes.abandonedApplied}); worker drained in ${sec(s.writes.drainMs)} s; stale reads after the drain ${s.writes.staleReads}; polls of issued command ids answered 404: ${s.commandPolls404}.`,
    ...s.writes.examples.map((e) => `- ${e}`),
    "",
    `Violations: ${s.violations.outsideWindows} non-2xx outside fault windows (${s.violations.fiveXxOutsideWindows} of them 5xx), ${s.violations.disallowedInWindows} answers inside windows the brief does not allow, ${s.violations.pipelinedClosesOutsideReadWorker} pipelined connections closed by the server outside a read-worker window.`,
    `Unexpected process exits: ${s.unexpectedExits.length === 0 ? "none" : s.unexpectedExits.map((e) => `${e.app} (code ${e.code}) at ${e.atSec} s`).join(", ")}.`,
    "",
  ];
  return lines.join("\n");
}
