/**
 * The arithmetic behind the `million` profile: how many read tasks a request
 * rate needs, by CPU and by network, and what it costs the NLB and egress.
 * Pure; `cdk/scripts/capacity.ts` prints it, DEPLOY.md quotes it, and a test
 * holds the profile to it. Inputs are measurements or stated assumptions.
 */

export type Encoding = "identity" | "gzip";

export interface CapacityInputs {
  targetRps: number;
  /** req/s one uWS process serves on one core, from the read-path benchmark (loopback). */
  perCoreRps: Record<Encoding, number>;
  /** Body of GET /todos?limit=100 (about 21.5 KB as JSON, 1.6 KB gzipped). */
  bodyBytes: Record<Encoding, number>;
  /** Status line and headers (ETag, Vary, Cache-Control, Link, ...). */
  headerBytes: number;
  /**
   * Share of the loopback figure a Fargate vCPU keeps once responses cross a
   * real NIC (ENA) and the NLB. An assumption until measured on AWS.
   */
  cloudEfficiency: number;
  /** Autoscaling's CPU target: the headroom left for bursts and a lost AZ. */
  cpuTarget: number;
  vcpuPerTask: number;
  /**
   * Sustained (baseline) network bandwidth per vCPU. AWS publishes none for
   * Fargate; Graviton EC2 (c7g/m7g) baselines are ~0.47 Gbit/s per vCPU.
   */
  baselineGbpsPerVcpu: number;
}

export const MILLION_INPUTS: CapacityInputs = {
  targetRps: 1_000_000,
  perCoreRps: { identity: 75_000, gzip: 107_000 },
  bodyBytes: { identity: 21_500, gzip: 1_600 },
  headerBytes: 300,
  cloudEfficiency: 0.5,
  cpuTarget: 0.6,
  vcpuPerTask: 4,
  baselineGbpsPerVcpu: 0.469,
};

/** Ethernet + IPv4 + TCP (with timestamps) per segment, and the segment payload at MTU 1500. */
const HEADER_PER_SEGMENT = 66;
const SEGMENT_PAYLOAD = 1448;

export interface EncodingPlan {
  encoding: Encoding;
  wireBytesPerResponse: number;
  egressGbps: number;
  egressTerabytesPerHour: number;
  /** NLB LCUs for processed bytes (1 GB per LCU-hour), the dimension that dominates. */
  nlbLcu: number;
  tasksForCpu: number;
  tasksForBandwidth: number;
  tasks: number;
}

export function wireBytes(inputs: CapacityInputs, encoding: Encoding): number {
  const payload = inputs.bodyBytes[encoding] + inputs.headerBytes;
  return payload + Math.ceil(payload / SEGMENT_PAYLOAD) * HEADER_PER_SEGMENT;
}

export function planFor(inputs: CapacityInputs, encoding: Encoding): EncodingPlan {
  const bytes = wireBytes(inputs, encoding);
  const bytesPerSec = inputs.targetRps * bytes;
  const egressGbps = (bytesPerSec * 8) / 1e9;
  const perTaskRps =
    inputs.perCoreRps[encoding] * inputs.cloudEfficiency * inputs.cpuTarget * inputs.vcpuPerTask;
  const perTaskGbps = inputs.baselineGbpsPerVcpu * inputs.vcpuPerTask;
  const tasksForCpu = Math.ceil(inputs.targetRps / perTaskRps);
  const tasksForBandwidth = Math.ceil(egressGbps / perTaskGbps);
  return {
    encoding,
    wireBytesPerResponse: bytes,
    egressGbps,
    egressTerabytesPerHour: (bytesPerSec * 3600) / 1e12,
    nlbLcu: Math.ceil((bytesPerSec * 3600) / 1e9),
    tasksForCpu,
    tasksForBandwidth,
    tasks: Math.max(tasksForCpu, tasksForBandwidth),
  };
}

export function capacityPlan(
  inputs: CapacityInputs = MILLION_INPUTS,
): Record<Encoding, EncodingPlan> {
  return { identity: planFor(inputs, "identity"), gzip: planFor(inputs, "gzip") };
}
