/**
 * How big the deployment is. Two named profiles (`small` to try it, `million`
 * for the 1M req/s target, see DEPLOY.md for the arithmetic) and per-key
 * overrides from CDK context (`-c readTasks=8`). Pure: tested without synth.
 */

export type ProfileName = "small" | "million";

export interface Sizing {
  profile: ProfileName;
  maxAzs: number;
  natGateways: number;
  /** Fargate ARM64 read fleet; one uWS worker process per vCPU. */
  read: { vcpu: number; memoryMiB: number; minTasks: number; maxTasks: number; cpuTarget: number };
  worker: { vcpu: number; memoryMiB: number; minTasks: number; maxTasks: number; poolSize: number };
  kafka: {
    partitions: number;
    instanceType: string;
    brokersPerAz: number;
    volumeGiB: number;
    /** MSK's version string: `3.9.x.kraft` (KRaft, as locally) or `3.9.x` (ZooKeeper). */
    version: string;
  };
  database: { instanceClass: string; storageGiB: number; multiAz: boolean };
  cache: { nodeType: string; replicas: number };
  api: { rateLimit: number; burstLimit: number; lambdaMemoryMiB: number };
  /** CloudFront micro-cache in front of the NLB. */
  cdn: boolean;
}

export const PROFILES: Readonly<Record<ProfileName, Sizing>> = {
  small: {
    profile: "small",
    maxAzs: 2,
    natGateways: 1,
    read: { vcpu: 1, memoryMiB: 2048, minTasks: 2, maxTasks: 4, cpuTarget: 60 },
    worker: { vcpu: 0.5, memoryMiB: 1024, minTasks: 1, maxTasks: 2, poolSize: 4 },
    kafka: {
      partitions: 6,
      instanceType: "kafka.t3.small",
      brokersPerAz: 1,
      volumeGiB: 20,
      version: "3.9.x.kraft",
    },
    database: { instanceClass: "t4g.small", storageGiB: 20, multiAz: false },
    cache: { nodeType: "cache.t4g.small", replicas: 1 },
    api: { rateLimit: 500, burstLimit: 1000, lambdaMemoryMiB: 512 },
    cdn: false,
  },
  million: {
    profile: "million",
    maxAzs: 3,
    natGateways: 3,
    read: { vcpu: 4, memoryMiB: 8192, minTasks: 12, maxTasks: 100, cpuTarget: 60 },
    worker: { vcpu: 1, memoryMiB: 2048, minTasks: 3, maxTasks: 24, poolSize: 8 },
    kafka: {
      partitions: 24,
      instanceType: "kafka.m7g.large",
      brokersPerAz: 1,
      volumeGiB: 500,
      version: "3.9.x.kraft",
    },
    database: { instanceClass: "r7g.large", storageGiB: 200, multiAz: true },
    cache: { nodeType: "cache.r7g.large", replicas: 2 },
    api: { rateLimit: 10_000, burstLimit: 5_000, lambdaMemoryMiB: 1024 },
    cdn: true,
  },
};

/** Fargate's CPU/memory pairs (MiB), per vCPU size. */
const FARGATE_MEMORY: Readonly<Record<number, { min: number; max: number; step: number }>> = {
  0.25: { min: 512, max: 2048, step: 512 },
  0.5: { min: 1024, max: 4096, step: 1024 },
  1: { min: 2048, max: 8192, step: 1024 },
  2: { min: 4096, max: 16384, step: 1024 },
  4: { min: 8192, max: 30720, step: 1024 },
  8: { min: 16384, max: 61440, step: 4096 },
  16: { min: 32768, max: 122880, step: 8192 },
};

export class SizingError extends Error {
  override name = "SizingError";
}

function fargate(what: string, vcpu: number, memoryMiB: number): void {
  const range = FARGATE_MEMORY[vcpu];
  if (range === undefined) {
    throw new SizingError(
      `${what}: ${vcpu} vCPU is not a Fargate size (0.25, 0.5, 1, 2, 4, 8, 16)`,
    );
  }
  const { min, max, step } = range;
  if (memoryMiB < min || memoryMiB > max || (memoryMiB - min) % step !== 0) {
    throw new SizingError(
      `${what}: ${memoryMiB} MiB does not fit ${vcpu} vCPU (${min}..${max} in steps of ${step})`,
    );
  }
}

function bounds(what: string, min: number, max: number): void {
  if (!Number.isInteger(min) || min < 1 || !Number.isInteger(max) || max < min) {
    throw new SizingError(`${what}: need 1 <= minTasks <= maxTasks (got ${min}..${max})`);
  }
}

/** Throws a SizingError naming the setting when a combination cannot deploy or work. */
export function validateSizing(s: Sizing): Sizing {
  fargate("read fleet", s.read.vcpu, s.read.memoryMiB);
  fargate("worker", s.worker.vcpu, s.worker.memoryMiB);
  bounds("read fleet", s.read.minTasks, s.read.maxTasks);
  bounds("worker", s.worker.minTasks, s.worker.maxTasks);
  if (s.read.vcpu < 1)
    throw new SizingError("read fleet: at least 1 vCPU (one uWS process per vCPU)");
  // A consumer beyond the partition count gets no partition: it would only cost money.
  if (s.worker.maxTasks > s.kafka.partitions) {
    throw new SizingError(
      `worker: maxTasks ${s.worker.maxTasks} exceeds partitions ${s.kafka.partitions}; extra consumers would idle`,
    );
  }
  if (s.kafka.version !== "3.9.x.kraft" && s.kafka.version !== "3.9.x") {
    throw new SizingError(`kafka: version 3.9.x.kraft or 3.9.x (got ${s.kafka.version})`);
  }
  if (s.maxAzs < 2 || s.maxAzs > 3) throw new SizingError("maxAzs must be 2 or 3");
  if (s.natGateways < 1 || s.natGateways > s.maxAzs) {
    throw new SizingError(`natGateways must be 1..maxAzs (${s.maxAzs})`);
  }
  if (s.read.cpuTarget < 10 || s.read.cpuTarget > 90) {
    throw new SizingError("read fleet: cpuTarget must be 10..90 percent");
  }
  if (s.cache.replicas < 1 || s.cache.replicas > 5) {
    throw new SizingError("cache: replicas must be 1..5 (Multi-AZ failover needs one)");
  }
  if (s.api.burstLimit < 1 || s.api.rateLimit < 1) {
    throw new SizingError("api: rateLimit and burstLimit must be positive");
  }
  return s;
}

/** Processes the read fleet starts per task: one per whole vCPU. */
export function readWorkersPerTask(s: Sizing): number {
  return Math.max(1, Math.floor(s.read.vcpu));
}

/** Brokers MSK needs: a multiple of the client subnets (one per AZ). */
export function brokerCount(s: Sizing, azs: number): number {
  return s.kafka.brokersPerAz * azs;
}
