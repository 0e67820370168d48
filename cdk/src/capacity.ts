/**
 * The arithmetic behind the `million` profile: how many read tasks a request rate
 * needs, by CPU and by network, with and without the CDN, and what it costs per
 * hour at list prices (prices.ts). Pure; `cdk/scripts/capacity.ts` prints it,
 * DEPLOY.md quotes it, and tests hold the profile to it. Every input is either
 * measured here (the read benchmark) or a stated assumption.
 */
import {
  CLOUDFRONT_EGRESS_TIERS,
  HOURS_PER_MONTH,
  INTERNET_EGRESS_TIERS,
  PRICES,
  tieredHourly,
} from "./prices";
import { BASELINE_GBPS_PER_VCPU, PROFILES, type Sizing } from "./sizing";

export type Encoding = "identity" | "gzip";

export interface CapacityInputs {
  targetRps: number;
  /** req/s one read-fleet process serves on one core (the read benchmark, loopback). */
  perProcessRps: Record<Encoding, number>;
  /** Where perProcessRps and bodyBytes come from (a results file, or the README's figures). */
  measuredIn: string;
  /** Body of GET /todos?limit=100, as the benchmark measured it. */
  bodyBytes: Record<Encoding, number>;
  /** Status line and headers (ETag, Vary, Cache-Control, Link, ...). */
  headerBytes: number;
  /**
   * Share of the loopback figure a Fargate vCPU keeps once responses cross a real NIC
   * (ENA) and the NLB. An assumption until measured on AWS (DEPLOY.md, step 5).
   */
  cloudEfficiency: number;
  /** Autoscaling's CPU target: headroom for bursts, a lost AZ and scale-out lag. */
  cpuTarget: number;
  /** Autoscaling's network target, as a share of the task's baseline bandwidth. */
  bandwidthTarget: number;
  vcpuPerTask: number;
  memoryGiBPerTask: number;
  /** Sustained network bandwidth per vCPU (an assumption: sizing.ts). */
  baselineGbpsPerVcpu: number;
  /**
   * Share of reads CloudFront answers from its micro-cache (max-age 1 s): each edge
   * fetches a page about once a second, so at 1M req/s misses are a small share.
   * An assumption until CloudFront's CacheHitRate says otherwise.
   */
  cdnHitRatio: number;
  /** The profile's least read tasks: the fleet never runs fewer. */
  floorTasks: number;
  /** Everything that does not scale with reads, from the profile. */
  fixed: {
    workerTasks: number;
    workerVcpu: number;
    workerMemoryGiB: number;
    mskBrokers: number;
    mskVolumeGiB: number;
    dbMultiAz: boolean;
    dbStorageGiB: number;
    cacheNodes: number;
    natGateways: number;
  };
}

/** The README's figures for one process on this kind of machine (~60-75k identity, ~90k gzip). */
export const README_PER_PROCESS: Record<Encoding, number> = { identity: 70_000, gzip: 90_000 };
/** The page the benchmark serves: 21.7 KB of JSON, 3.6 KB gzipped (random titles compress less). */
export const README_BODY_BYTES: Record<Encoding, number> = { identity: 21_749, gzip: 3_587 };

export function inputsFor(
  sizing: Sizing = PROFILES.million,
  measured: {
    perProcessRps: Record<Encoding, number>;
    bodyBytes: Record<Encoding, number>;
    measuredIn: string;
  } = {
    perProcessRps: README_PER_PROCESS,
    bodyBytes: README_BODY_BYTES,
    measuredIn: "README.md (read fleet, one process, 21.7 KB page)",
  },
): CapacityInputs {
  return {
    targetRps: 1_000_000,
    ...measured,
    headerBytes: 300,
    cloudEfficiency: 0.5,
    cpuTarget: sizing.read.cpuTarget / 100,
    bandwidthTarget: sizing.read.bandwidthTarget / 100,
    vcpuPerTask: sizing.read.vcpu,
    memoryGiBPerTask: sizing.read.memoryMiB / 1024,
    baselineGbpsPerVcpu: BASELINE_GBPS_PER_VCPU,
    cdnHitRatio: 0.99,
    floorTasks: sizing.read.minTasks,
    fixed: {
      workerTasks: sizing.worker.minTasks,
      workerVcpu: sizing.worker.vcpu,
      workerMemoryGiB: sizing.worker.memoryMiB / 1024,
      mskBrokers: sizing.kafka.brokersPerAz * sizing.maxAzs,
      mskVolumeGiB: sizing.kafka.volumeGiB,
      dbMultiAz: sizing.database.multiAz,
      dbStorageGiB: sizing.database.storageGiB,
      cacheNodes: 1 + sizing.cache.replicas,
      natGateways: sizing.natGateways,
    },
  };
}

export const MILLION_INPUTS: CapacityInputs = inputsFor();

/** Ethernet + IPv4 + TCP (with timestamps) per segment, and the segment payload at MTU 1500. */
const HEADER_PER_SEGMENT = 66;
const SEGMENT_PAYLOAD = 1448;

export function wireBytes(inputs: CapacityInputs, encoding: Encoding): number {
  const payload = inputs.bodyBytes[encoding] + inputs.headerBytes;
  return payload + Math.ceil(payload / SEGMENT_PAYLOAD) * HEADER_PER_SEGMENT;
}

/** Dollars per hour, by line. */
export interface Bill {
  fargate: number;
  nlb: number;
  internetEgress: number;
  crossAz: number;
  cloudFrontRequests: number;
  cloudFrontBytes: number;
  msk: number;
  rds: number;
  elastiCache: number;
  nat: number;
}

export interface Plan {
  encoding: Encoding;
  cdn: boolean;
  wireBytesPerResponse: number;
  /** Requests that reach the NLB and the fleet. */
  originRps: number;
  /** Bytes leaving AWS to readers (from the NLB, or from CloudFront's edges). */
  egressGbps: number;
  egressTerabytesPerHour: number;
  /** What the NLB carries (with the CDN: CloudFront's misses only). */
  originGbps: number;
  /** NLB capacity units for processed bytes (1 GB per LCU-hour), the dimension that dominates. */
  nlbLcu: number;
  tasksForCpu: number;
  tasksForBandwidth: number;
  tasks: number;
  vcpus: number;
  bill: Bill;
  total: number;
}

export function planFor(inputs: CapacityInputs, encoding: Encoding, cdn: boolean): Plan {
  const bytes = wireBytes(inputs, encoding);
  const originRps = cdn ? inputs.targetRps * (1 - inputs.cdnHitRatio) : inputs.targetRps;
  const originBytesPerSec = originRps * bytes;
  const egressBytesPerSec = inputs.targetRps * bytes;
  const perTaskRps =
    inputs.perProcessRps[encoding] * inputs.cloudEfficiency * inputs.cpuTarget * inputs.vcpuPerTask;
  const perTaskGbps = inputs.baselineGbpsPerVcpu * inputs.vcpuPerTask * inputs.bandwidthTarget;
  const originGbps = (originBytesPerSec * 8) / 1e9;
  const tasksForCpu = Math.ceil(originRps / perTaskRps);
  const tasksForBandwidth = Math.ceil(originGbps / perTaskGbps);
  const tasks = Math.max(tasksForCpu, tasksForBandwidth, inputs.floorTasks);
  const originGbPerHour = (originBytesPerSec * 3600) / 1e9;
  const egressGbPerHour = (egressBytesPerSec * 3600) / 1e9;
  const nlbLcu = Math.ceil(originGbPerHour);
  const f = inputs.fixed;
  const p = PRICES;
  const bill: Bill = {
    fargate:
      tasks *
        (inputs.vcpuPerTask * p.fargateVcpuHour.usd +
          inputs.memoryGiBPerTask * p.fargateGbHour.usd) +
      f.workerTasks *
        (f.workerVcpu * p.fargateVcpuHour.usd + f.workerMemoryGiB * p.fargateGbHour.usd),
    nlb: p.nlbHour.usd + nlbLcu * p.nlbLcuHour.usd,
    // Origin fetches from an AWS origin to CloudFront are free; without it, the NLB's bytes leave AWS.
    internetEgress: cdn ? 0 : tieredHourly(egressGbPerHour, INTERNET_EGRESS_TIERS.tiers),
    // Cross-zone NLB: two thirds of the bytes from the tasks cross an AZ to the NLB node.
    crossAz: originGbPerHour * (2 / 3) * p.crossAzGb.usd,
    cloudFrontRequests: cdn ? ((inputs.targetRps * 3600) / 10_000) * p.cloudFrontHttps10k.usd : 0,
    cloudFrontBytes: cdn ? tieredHourly(egressGbPerHour, CLOUDFRONT_EGRESS_TIERS.tiers) : 0,
    msk:
      f.mskBrokers * p.mskBrokerHour.usd +
      (f.mskBrokers * f.mskVolumeGiB * p.mskStorageGbMonth.usd) / HOURS_PER_MONTH,
    rds:
      (f.dbMultiAz ? 2 : 1) *
      (p.rdsInstanceHour.usd + (f.dbStorageGiB * p.rdsGp3GbMonth.usd) / HOURS_PER_MONTH),
    elastiCache: f.cacheNodes * p.cacheNodeHour.usd,
    nat: f.natGateways * p.natHour.usd,
  };
  const total = Object.values(bill).reduce((a, b) => a + b, 0);
  return {
    encoding,
    cdn,
    wireBytesPerResponse: bytes,
    originRps,
    egressGbps: (egressBytesPerSec * 8) / 1e9,
    egressTerabytesPerHour: egressGbPerHour / 1000,
    originGbps,
    nlbLcu,
    tasksForCpu,
    tasksForBandwidth,
    tasks,
    vcpus: tasks * inputs.vcpuPerTask,
    bill,
    total,
  };
}

/** The four cases the table prints: identity and gzip bodies, each without and with the CDN. */
export function capacityPlans(inputs: CapacityInputs = MILLION_INPUTS): Plan[] {
  return [
    planFor(inputs, "identity", false),
    planFor(inputs, "gzip", false),
    planFor(inputs, "identity", true),
    planFor(inputs, "gzip", true),
  ];
}
