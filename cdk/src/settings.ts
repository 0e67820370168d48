import { defaultOf, vars } from "@million-rps/shared/config";
import {
  LAMBDA_ACCOUNT_CONCURRENCY,
  PROFILES,
  type ProfileName,
  type Sizing,
  SizingError,
  validateSizing,
} from "./sizing";

/**
 * Everything the app reads from CDK context (`cdk.json` or `-c key=value`),
 * parsed once into a frozen object. CLI values arrive as strings, cdk.json
 * values as JSON: both are accepted; anything else is an error naming the key.
 */
export interface Settings {
  sizing: Sizing;
  logRetentionDays: number;
  /**
   * Alarm notifications go to this address. Required by the million profile;
   * elsewhere its absence is a loud synth warning (`none` silences it knowingly).
   */
  alarmEmail: string | undefined;
  /** The account's concurrent Lambda executions (quota), which reserved concurrency must leave room in. */
  lambdaAccountConcurrency: number;
  /** A real identity provider instead of the generated HS256 secret. */
  jwks: { url: string; issuer: string; audience: string } | undefined;
  /** A custom domain for the CDN (its ACM certificate must be in us-east-1). */
  cdnDomain: { name: string; certificateArn: string } | undefined;
  /** Who may reach the read NLB. */
  readAllowedCidr: string;
  cacheTtlSec: number;
  /** Overrides the read fleet's own Cache-Control (max-age=1 plus stale-while-revalidate). */
  cacheControl: string | undefined;
  /** Keep the database, snapshots and logs on `cdk destroy`, with deletion protection. */
  retainData: boolean;
}

export type ContextReader = (key: string) => unknown;

function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== "";
}

function num(get: ContextReader, key: string, fallback: number): number {
  const v = get(key);
  if (!present(v)) return fallback;
  const n = typeof v === "number" ? v : Number(String(v));
  if (!Number.isFinite(n)) throw new SizingError(`context ${key}: not a number (${String(v)})`);
  return n;
}

function flag(get: ContextReader, key: string, fallback: boolean): boolean {
  const v = get(key);
  if (!present(v)) return fallback;
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  throw new SizingError(`context ${key}: must be true or false (${String(v)})`);
}

function text(get: ContextReader, key: string, fallback: string): string;
function text(get: ContextReader, key: string): string | undefined;
function text(get: ContextReader, key: string, fallback?: string): string | undefined {
  const v = get(key);
  return present(v) ? String(v) : fallback;
}

function profileOf(get: ContextReader): ProfileName {
  const name = text(get, "profile", "small");
  if (name !== "small" && name !== "million") {
    throw new SizingError(`context profile: small or million (got ${name})`);
  }
  return name;
}

/** Context keys that were renamed: a synth refuses the old one rather than ignore it. */
const RENAMED_CONTEXT: Readonly<Record<string, string>> = { workerPoolSize: "workerConcurrency" };

export function readSizing(get: ContextReader): Sizing {
  for (const [old, now] of Object.entries(RENAMED_CONTEXT)) {
    if (present(get(old)))
      throw new SizingError(`context ${old} is now ${now}: pass -c ${now}=...`);
  }
  const p = PROFILES[profileOf(get)];
  return validateSizing({
    profile: p.profile,
    maxAzs: num(get, "maxAzs", p.maxAzs),
    natGateways: num(get, "natGateways", p.natGateways),
    read: {
      vcpu: num(get, "readVcpu", p.read.vcpu),
      memoryMiB: num(get, "readMemoryMiB", p.read.memoryMiB),
      minTasks: num(get, "readMinTasks", p.read.minTasks),
      maxTasks: num(get, "readMaxTasks", p.read.maxTasks),
      cpuTarget: num(get, "readCpuTarget", p.read.cpuTarget),
      bandwidthTarget: num(get, "readBandwidthTarget", p.read.bandwidthTarget),
      dbPoolPerProcess: num(get, "readDbPoolPerProcess", p.read.dbPoolPerProcess),
    },
    worker: {
      vcpu: num(get, "workerVcpu", p.worker.vcpu),
      memoryMiB: num(get, "workerMemoryMiB", p.worker.memoryMiB),
      minTasks: num(get, "workerMinTasks", p.worker.minTasks),
      maxTasks: num(get, "workerMaxTasks", p.worker.maxTasks),
      concurrency: num(get, "workerConcurrency", p.worker.concurrency),
      cachedPagesPushBytes: num(get, "cachedPagesPushBytes", p.worker.cachedPagesPushBytes),
    },
    kafka: {
      partitions: num(get, "partitions", p.kafka.partitions),
      instanceType: text(get, "kafkaInstanceType", p.kafka.instanceType),
      brokersPerAz: num(get, "kafkaBrokersPerAz", p.kafka.brokersPerAz),
      volumeGiB: num(get, "kafkaVolumeGiB", p.kafka.volumeGiB),
      version: text(get, "kafkaVersion", p.kafka.version),
    },
    database: {
      instanceClass: text(get, "dbInstanceClass", p.database.instanceClass),
      storageGiB: num(get, "dbStorageGiB", p.database.storageGiB),
      multiAz: flag(get, "dbMultiAz", p.database.multiAz),
    },
    cache: {
      nodeType: text(get, "cacheNodeType", p.cache.nodeType),
      replicas: num(get, "cacheReplicas", p.cache.replicas),
    },
    api: {
      rateLimit: num(get, "apiRateLimit", p.api.rateLimit),
      burstLimit: num(get, "apiBurstLimit", p.api.burstLimit),
      lambdaMemoryMiB: num(get, "lambdaMemoryMiB", p.api.lambdaMemoryMiB),
    },
    cdn: flag(get, "cdn", p.cdn),
  });
}

function jwksOf(get: ContextReader): Settings["jwks"] {
  const url = text(get, "jwksUrl");
  const issuer = text(get, "jwtIssuer");
  const audience = text(get, "jwtAudience");
  if (url === undefined && issuer === undefined && audience === undefined) return undefined;
  if (url === undefined || issuer === undefined || audience === undefined) {
    throw new SizingError("context jwksUrl, jwtIssuer and jwtAudience go together");
  }
  if (!url.startsWith("https://")) throw new SizingError("context jwksUrl must use https");
  return { url, issuer, audience };
}

function cdnDomainOf(get: ContextReader): Settings["cdnDomain"] {
  const name = text(get, "cdnDomainName");
  const certificateArn = text(get, "cdnCertificateArn");
  if (name === undefined && certificateArn === undefined) return undefined;
  if (name === undefined || certificateArn === undefined) {
    throw new SizingError("context cdnDomainName and cdnCertificateArn go together");
  }
  if (!certificateArn.startsWith("arn:aws:acm:us-east-1:")) {
    throw new SizingError(
      "context cdnCertificateArn: an ACM certificate in us-east-1 (CloudFront)",
    );
  }
  return { name, certificateArn };
}

/**
 * Alarms that reach nobody do not exist. The million profile refuses to synthesize
 * without a subscriber; `-c alarmEmail=none` (any profile) says so on purpose.
 */
function alarmEmailOf(get: ContextReader, sizing: Sizing): string | undefined {
  const email = text(get, "alarmEmail");
  if (email === "none") return undefined;
  if (email === undefined) {
    if (sizing.profile === "million") {
      throw new SizingError(
        "context alarmEmail: the million profile pages someone (-c alarmEmail=oncall@example.com, or alarmEmail=none to deploy alarms nobody receives)",
      );
    }
    return undefined;
  }
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    throw new SizingError(`context alarmEmail: an e-mail address (got ${email})`);
  }
  return email;
}

/** CloudWatch Logs accepts only these retention periods. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653];

export function readSettings(get: ContextReader): Settings {
  const logRetentionDays = num(get, "logRetentionDays", 30);
  if (!RETENTION_DAYS.includes(logRetentionDays)) {
    throw new SizingError(`context logRetentionDays: one of ${RETENTION_DAYS.join(", ")}`);
  }
  const readAllowedCidr = text(get, "readAllowedCidr", "0.0.0.0/0");
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(readAllowedCidr)) {
    throw new SizingError(`context readAllowedCidr: an IPv4 CIDR (got ${readAllowedCidr})`);
  }
  const sizing = readSizing(get);
  return Object.freeze({
    sizing,
    logRetentionDays,
    alarmEmail: alarmEmailOf(get, sizing),
    lambdaAccountConcurrency: num(get, "lambdaAccountConcurrency", LAMBDA_ACCOUNT_CONCURRENCY),
    jwks: jwksOf(get),
    cdnDomain: cdnDomainOf(get),
    readAllowedCidr,
    cacheTtlSec: num(get, "cacheTtlSec", defaultOf(vars.cacheTtlSec)),
    cacheControl: text(get, "cacheControl"),
    retainData: flag(get, "retainData", false),
  });
}
