/**
 * Prints the read-fleet sizing arithmetic for a request rate (DEPLOY.md quotes it).
 *
 *   npx tsx cdk/scripts/capacity.ts
 *   npx tsx cdk/scripts/capacity.ts --rps 500000 --per-core-gzip 95000 --vcpu 8
 */
import { parseArgs } from "node:util";
import { capacityPlan, MILLION_INPUTS } from "../src/capacity";

const { values } = parseArgs({
  options: {
    rps: { type: "string" },
    "per-core-identity": { type: "string" },
    "per-core-gzip": { type: "string" },
    efficiency: { type: "string" },
    vcpu: { type: "string" },
  },
});

function number(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number (got "${text}")`);
    process.exit(2);
  }
  return n;
}

const m = MILLION_INPUTS;
const inputs = {
  ...m,
  targetRps: number("rps", values.rps, m.targetRps),
  perCoreRps: {
    identity: number("per-core-identity", values["per-core-identity"], m.perCoreRps.identity),
    gzip: number("per-core-gzip", values["per-core-gzip"], m.perCoreRps.gzip),
  },
  cloudEfficiency: number("efficiency", values.efficiency, m.cloudEfficiency),
  vcpuPerTask: number("vcpu", values.vcpu, m.vcpuPerTask),
};
const plan = capacityPlan(inputs);

console.log(
  `target ${inputs.targetRps.toLocaleString("en")} req/s, ${inputs.vcpuPerTask} vCPU per task, ` +
    `cloud efficiency ${inputs.cloudEfficiency}, CPU target ${inputs.cpuTarget}, ` +
    `${inputs.baselineGbpsPerVcpu} Gbit/s baseline per vCPU`,
);
const rows = [
  ["", "identity", "gzip"],
  ["per-core req/s (bench)", inputs.perCoreRps.identity, inputs.perCoreRps.gzip],
  [
    "bytes on the wire / response",
    plan.identity.wireBytesPerResponse,
    plan.gzip.wireBytesPerResponse,
  ],
  ["egress Gbit/s", plan.identity.egressGbps.toFixed(1), plan.gzip.egressGbps.toFixed(1)],
  [
    "egress TB/hour",
    plan.identity.egressTerabytesPerHour.toFixed(1),
    plan.gzip.egressTerabytesPerHour.toFixed(1),
  ],
  ["NLB LCU (processed bytes)", plan.identity.nlbLcu, plan.gzip.nlbLcu],
  ["tasks for CPU", plan.identity.tasksForCpu, plan.gzip.tasksForCpu],
  ["tasks for bandwidth", plan.identity.tasksForBandwidth, plan.gzip.tasksForBandwidth],
  ["tasks needed", plan.identity.tasks, plan.gzip.tasks],
];
for (const [label, a, b] of rows) {
  console.log(`${String(label).padEnd(32)}${String(a).padStart(12)}${String(b).padStart(12)}`);
}
