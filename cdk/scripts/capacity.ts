/**
 * Prints what a read rate needs on AWS and what it costs per hour at list prices,
 * for identity and gzip bodies, without and with the CDN (DEPLOY.md quotes it).
 *
 *   npx tsx cdk/scripts/capacity.ts --rps 1000000
 *   npx tsx cdk/scripts/capacity.ts --rps 500000 --efficiency 0.7 --hit-ratio 0.95
 *   npx tsx cdk/scripts/capacity.ts --results none     # the README's figures, not results/
 *
 * Per-process req/s and page sizes come from the newest results/read-bench-*.json
 * (`npm run bench:read`) that measured a single process, else from the README's figures.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { newestBenchFigures, readBenchFigures } from "../src/bench-results";
import { capacityPlans, inputsFor, type Plan } from "../src/capacity";
import { REPO_ROOT } from "../src/images";
import {
  CLOUDFRONT_EGRESS_TIERS,
  INTERNET_EGRESS_TIERS,
  PRICES,
  PRICES_AS_OF,
} from "../src/prices";
import {
  CONNECTION_HEADROOM,
  connectionBudget,
  fargateVcpuQuota,
  maxConnections,
  PROFILES,
  writeReservedConcurrency,
} from "../src/sizing";

const { values } = parseArgs({
  options: {
    rps: { type: "string" },
    efficiency: { type: "string" },
    "hit-ratio": { type: "string" },
    results: { type: "string" },
  },
});

function number(name: string, text: string | undefined, fallback: number, max = Infinity): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > max) {
    console.error(
      `--${name} must be a positive number${max < Infinity ? ` up to ${max}` : ""} (got "${text}")`,
    );
    process.exit(2);
  }
  return n;
}

const sizing = PROFILES.million;
const file = values.results === "none" ? undefined : values.results;
const measured =
  values.results === "none"
    ? undefined
    : file !== undefined
      ? readBenchFigures(file)
      : newestBenchFigures(join(REPO_ROOT, "results"));
if (file !== undefined && measured === undefined) {
  console.error(`${file}: no single-process identity and gzip figures in it; using the README's`);
}
const base = inputsFor(sizing, measured);
const inputs = {
  ...base,
  targetRps: number("rps", values.rps, base.targetRps),
  cloudEfficiency: number("efficiency", values.efficiency, base.cloudEfficiency, 1),
  cdnHitRatio: number("hit-ratio", values["hit-ratio"], base.cdnHitRatio, 1),
};
const plans = capacityPlans(inputs);

const usd = (n: number) =>
  `$${n.toLocaleString("en", { maximumFractionDigits: n < 10 ? 2 : 0, minimumFractionDigits: n < 10 ? 2 : 0 })}`;
const int = (n: number) => Math.round(n).toLocaleString("en");
const fixed = (n: number, d = 1) => n.toFixed(d);

console.log(
  `${int(inputs.targetRps)} GET /todos?limit=100 per second, million profile (${inputs.vcpuPerTask} vCPU read tasks)`,
);
console.log(
  `measured here: ${int(inputs.perProcessRps.identity)} identity / ${int(inputs.perProcessRps.gzip)} gzip req/s per process, ` +
    `${int(inputs.bodyBytes.identity)} / ${int(inputs.bodyBytes.gzip)} B bodies, from ${inputs.measuredIn}`,
);
console.log(
  `assumed: cloud efficiency ${inputs.cloudEfficiency}, ${inputs.baselineGbpsPerVcpu} Gbit/s per vCPU, ` +
    `CDN hit ratio ${inputs.cdnHitRatio}; targets CPU ${inputs.cpuTarget}, bandwidth ${inputs.bandwidthTarget}`,
);
console.log("");

type Row = [string, (p: Plan) => string];
const rows: Row[] = [
  ["origin req/s (NLB)", (p) => int(p.originRps)],
  ["bytes on the wire / response", (p) => int(p.wireBytesPerResponse)],
  ["egress to readers Gbit/s", (p) => fixed(p.egressGbps)],
  ["egress to readers TB/hour", (p) => fixed(p.egressTerabytesPerHour)],
  ["NLB Gbit/s", (p) => fixed(p.originGbps)],
  ["NLB capacity units (bytes)", (p) => int(p.nlbLcu)],
  ["read tasks for CPU", (p) => int(p.tasksForCpu)],
  ["read tasks for bandwidth", (p) => int(p.tasksForBandwidth)],
  [`read tasks (floor ${inputs.floorTasks})`, (p) => int(p.tasks)],
  ["read vCPUs", (p) => int(p.vcpus)],
  ["$/h Fargate (read + worker)", (p) => usd(p.bill.fargate)],
  ["$/h NLB (hour + LCU)", (p) => usd(p.bill.nlb)],
  ["$/h data transfer to internet", (p) => usd(p.bill.internetEgress)],
  ["$/h data transfer cross-AZ", (p) => usd(p.bill.crossAz)],
  ["$/h CloudFront requests", (p) => usd(p.bill.cloudFrontRequests)],
  ["$/h CloudFront bytes", (p) => usd(p.bill.cloudFrontBytes)],
  ["$/h MSK (3 brokers + disk)", (p) => usd(p.bill.msk)],
  ["$/h RDS (Multi-AZ + gp3)", (p) => usd(p.bill.rds)],
  ["$/h ElastiCache (3 nodes)", (p) => usd(p.bill.elastiCache)],
  ["$/h NAT gateways", (p) => usd(p.bill.nat)],
  ["$/h total", (p) => usd(p.total)],
  ["$/month at this rate (730 h)", (p) => usd(p.total * 730)],
];
const head = ["", "identity", "gzip", "identity+CDN", "gzip+CDN"];
const width = [32, 14, 14, 14, 14];
const line = (cells: string[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(width[i] ?? 0) : c.padStart(width[i] ?? 0))).join("");
console.log(line(head));
for (const [label, cell] of rows) console.log(line([label, ...plans.map(cell)]));

console.log("");
const quota = fargateVcpuQuota(sizing);
const budget = connectionBudget(sizing);
const limit = maxConnections(sizing.database.instanceClass);
const lambda = writeReservedConcurrency(sizing, 3);
console.log("Deploy-time doubling (a rolling deploy at maximum scale runs old and new tasks):");
console.log(
  `  Fargate On-Demand vCPU quota: ${int(quota)} (${sizing.read.maxTasks} read x ${sizing.read.vcpu} + ${sizing.worker.maxTasks} worker x ${sizing.worker.vcpu}, doubled, + one-off steps)`,
);
console.log(
  `  Postgres connections: ${int(budget.total)} (read ${int(budget.read)}, worker ${int(budget.worker)}, one-off ${budget.oneOff}) ` +
    `of ~${int(limit)} on ${sizing.database.instanceClass} (limit ${Math.round(CONNECTION_HEADROOM * 100)} %)`,
);
console.log(
  `  write Lambda reserved concurrency: ${lambda.perFunction} per function (MSK IAM: ${lambda.byConnections} by open connections, ` +
    `${lambda.byRate} by new connections/s, ${lambda.byAccount} by the account quota)`,
);
console.log(
  "  CloudFront default quotas per distribution: 250,000 req/s and 150 Gbit/s: ask for more first",
);
console.log("");
console.log(
  `List prices (US East, On-Demand, written down ${PRICES_AS_OF}; * = not rechecked here, an assumption):`,
);
for (const p of Object.values(PRICES)) {
  console.log(`  ${p.checked ? " " : "*"} $${p.usd} per ${p.unit} (${p.source})`);
}
for (const [name, t] of [
  ["internet egress", INTERNET_EGRESS_TIERS],
  ["CloudFront egress", CLOUDFRONT_EGRESS_TIERS],
] as const) {
  console.log(
    `  ${t.checked ? " " : "*"} ${name}: ${t.tiers.map((x) => `$${x.usd}`).join(" / ")} per GB by monthly tier (${t.source})`,
  );
}
