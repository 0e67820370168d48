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
  read: {
    vcpu: number;
    memoryMiB: number;
    minTasks: number;
    maxTasks: number;
    /** Target tracking on CPU, percent. */
    cpuTarget: number;
    /** Target tracking on bytes sent per task, percent of the task's baseline bandwidth. */
    bandwidthTarget: number;
    /** Postgres connections per uWS process (misses only: one query per changed page). */
    dbPoolPerProcess: number;
  };
  worker: {
    vcpu: number;
    memoryMiB: number;
    minTasks: number;
    maxTasks: number;
    concurrency: number;
    /**
     * CACHED_PAGES_PUSH_BYTES: bytes of rewritten cursor pages each publication pushes
     * to every read process. Every process gets every push, held or not (one worker
     * task publishes for all of them): at hundreds of processes a page few of them
     * hold must not go to all, so there the holders read it back (0).
     */
    cachedPagesPushBytes: number;
  };
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
    read: {
      vcpu: 1,
      memoryMiB: 2048,
      minTasks: 2,
      maxTasks: 4,
      cpuTarget: 60,
      bandwidthTarget: 60,
      dbPoolPerProcess: 2,
    },
    worker: {
      vcpu: 0.5,
      memoryMiB: 1024,
      minTasks: 1,
      maxTasks: 2,
      concurrency: 4,
      cachedPagesPushBytes: 262_144,
    },
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
    // 170 tasks: 1M identity req/s without the CDN is ~183 Gbit/s, 163 tasks at 60 % of
    // their baseline bandwidth (capacity.ts); one Postgres connection per process keeps
    // 2 x 170 x 4 (a rolling deploy doubles the fleet) within r7g.xlarge's budget.
    read: {
      vcpu: 4,
      memoryMiB: 8192,
      minTasks: 12,
      maxTasks: 170,
      cpuTarget: 60,
      bandwidthTarget: 60,
      dbPoolPerProcess: 1,
    },
    // 680 processes: cursor pages are read back by the processes that hold them,
    // never pushed to all (hot pages still are).
    worker: {
      vcpu: 1,
      memoryMiB: 2048,
      minTasks: 3,
      maxTasks: 24,
      concurrency: 8,
      cachedPagesPushBytes: 0,
    },
    kafka: {
      partitions: 24,
      instanceType: "kafka.m7g.large",
      brokersPerAz: 1,
      volumeGiB: 500,
      version: "3.9.x.kraft",
    },
    database: { instanceClass: "r7g.xlarge", storageGiB: 200, multiAz: true },
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
  const push = s.worker.cachedPagesPushBytes;
  if (!Number.isInteger(push) || push < 0 || push > 16_777_216) {
    throw new SizingError(
      `worker: cachedPagesPushBytes must be a whole number 0..16777216 (got ${push})`,
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
  if (s.read.bandwidthTarget < 10 || s.read.bandwidthTarget > 90) {
    throw new SizingError("read fleet: bandwidthTarget must be 10..90 percent");
  }
  if (!Number.isInteger(s.read.dbPoolPerProcess) || s.read.dbPoolPerProcess < 1) {
    throw new SizingError("read fleet: dbPoolPerProcess must be a positive integer");
  }
  const budget = connectionBudget(s);
  const limit = maxConnections(s.database.instanceClass);
  if (budget.total > CONNECTION_HEADROOM * limit) {
    throw new SizingError(
      `database: ${budget.total} Postgres connections at maximum scale during a deploy ` +
        `exceed ${Math.round(CONNECTION_HEADROOM * 100)} % of ${s.database.instanceClass}'s ~${limit} ` +
        "(lower readMaxTasks or dbPoolPerProcess, or pick a larger dbInstanceClass)",
    );
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
export function readProcessesPerTask(s: Sizing): number {
  return Math.max(1, Math.floor(s.read.vcpu));
}

/** Brokers MSK needs: a multiple of the client subnets (one per AZ). */
export function brokerCount(s: Sizing, azs: number): number {
  return s.kafka.brokersPerAz * azs;
}

/**
 * A rolling deployment starts the new tasks before it stops the old ones
 * (maximumPercent 200): at maximum scale every count below doubles for its duration.
 */
export const DEPLOY_FACTOR = 2;
/** Share of max_connections the budget may use; the rest is for psql, RDS and slack. */
export const CONNECTION_HEADROOM = 0.9;
/** Connections the one-off tasks hold: migrate 1, seed 2 (topics none). */
const ONE_OFF_CONNECTIONS = 3;

/** Memory per RDS instance class, GiB (the classes the profiles and DEPLOY.md name). */
const DB_MEMORY_GIB: Readonly<Record<string, number>> = {
  "t4g.micro": 1,
  "t4g.small": 2,
  "t4g.medium": 4,
  "t4g.large": 8,
  "m7g.large": 8,
  "m7g.xlarge": 16,
  "r7g.large": 16,
  "r7g.xlarge": 32,
  "r7g.2xlarge": 64,
  "r7g.4xlarge": 128,
};

/**
 * RDS for PostgreSQL's default max_connections, LEAST(DBInstanceClassMemory / 9531392, 5000).
 * DBInstanceClassMemory is the class memory less what RDS keeps for itself; counted here
 * as 95.5 % of it, which gives the ~1,700 usually reported for 16 GiB (an estimate).
 */
export function maxConnections(instanceClass: string): number {
  const gib = DB_MEMORY_GIB[instanceClass];
  if (gib === undefined) {
    throw new SizingError(
      `database: unknown instance class ${instanceClass} (known: ${Object.keys(DB_MEMORY_GIB).join(", ")})`,
    );
  }
  return Math.min(5000, Math.floor((gib * 2 ** 30 * 0.955) / 9_531_392));
}

/** Postgres connections at maximum scale while a deployment runs old and new tasks side by side. */
export function connectionBudget(s: Sizing): {
  read: number;
  worker: number;
  oneOff: number;
  total: number;
} {
  const read = s.read.maxTasks * readProcessesPerTask(s) * s.read.dbPoolPerProcess * DEPLOY_FACTOR;
  const worker = s.worker.maxTasks * workerDbPool(s) * DEPLOY_FACTOR;
  return { read, worker, oneOff: ONE_OFF_CONNECTIONS, total: read + worker + ONE_OFF_CONNECTIONS };
}

/** One transaction per partition in flight, plus one connection for the cache refill. */
export function workerDbPool(s: Sizing): number {
  return s.worker.concurrency + 1;
}

/** Fargate On-Demand vCPUs at maximum scale during a deploy: the quota to ask for. */
export function fargateVcpuQuota(s: Sizing): number {
  const oneOff = 0.5 * 2; // migrate and topics run during the deploy (0.5 vCPU each)
  return (
    (s.read.maxTasks * s.read.vcpu + s.worker.maxTasks * s.worker.vcpu) * DEPLOY_FACTOR + oneOff
  );
}

/**
 * Baseline network bandwidth per vCPU, Gbit/s. AWS publishes none for Fargate;
 * Graviton EC2 (m7g/c7g) baselines are ~0.469 Gbit/s per vCPU, bursts go higher.
 * An assumption until measured on AWS.
 */
export const BASELINE_GBPS_PER_VCPU = 0.469;

/** Bytes per second one read task sends at the bandwidth target: the network scaling target. */
export function readNetworkTargetBytesPerSec(s: Sizing): number {
  return Math.round(
    (BASELINE_GBPS_PER_VCPU * s.read.vcpu * 1e9 * s.read.bandwidthTarget) / 100 / 8,
  );
}

/**
 * MSK limits on IAM-authenticated connections per broker (MSK quotas page):
 * 3,000 open; new ones 100/s on M5/M7g brokers and 4/s on t3 (the t3 figure is
 * from the MSK documentation as remembered, not rechecked offline).
 */
export function mskIamLimits(instanceType: string): { open: number; perSecond: number } {
  return { open: 3000, perSecond: instanceType.startsWith("kafka.t3.") ? 4 : 100 };
}

/** Connections one warm write Lambda holds to one broker: its seed (metadata) connection and the leader's. */
const LAMBDA_CONNECTIONS_PER_BROKER = 2;
/** Consumer, DLQ producer and group coordinator of one worker task, on one broker at most. */
const WORKER_CONNECTIONS_PER_BROKER = 3;
/** A cold fleet of write Lambdas should be connected within this many seconds at MSK's rate limit. */
const COLD_FLEET_SECONDS = 30;
/** Account default of concurrent Lambda executions (raise it with a quota request). */
export const LAMBDA_ACCOUNT_CONCURRENCY = 1000;
/** Lambda keeps 100 unreserved; the deployment-step and framework functions need a few. */
const LAMBDA_UNRESERVED = 100 + 20;

/**
 * Reserved concurrency per write function, so that the write Lambdas together can
 * neither open more IAM connections than a broker accepts (with 20 % headroom and the
 * workers' share) nor need longer than COLD_FLEET_SECONDS to connect from cold at the
 * broker's new-connection rate, nor take the account's whole concurrency.
 */
export function writeReservedConcurrency(
  s: Sizing,
  functions: number,
  accountConcurrency = LAMBDA_ACCOUNT_CONCURRENCY,
): { perFunction: number; byConnections: number; byRate: number; byAccount: number } {
  const limits = mskIamLimits(s.kafka.instanceType);
  const workers = s.worker.maxTasks * WORKER_CONNECTIONS_PER_BROKER * DEPLOY_FACTOR;
  const byConnections = Math.floor((limits.open * 0.8 - workers) / LAMBDA_CONNECTIONS_PER_BROKER);
  const byRate = Math.floor(
    (limits.perSecond * COLD_FLEET_SECONDS) / LAMBDA_CONNECTIONS_PER_BROKER,
  );
  const byAccount = accountConcurrency - LAMBDA_UNRESERVED;
  const total = Math.min(byConnections, byRate, byAccount);
  return {
    perFunction: Math.max(1, Math.floor(total / functions)),
    byConnections,
    byRate,
    byAccount,
  };
}
