/**
 * List prices the bill in capacity.ts uses: US East (N. Virginia), On-Demand,
 * USD, written down on 2026-12-01. `checked` says whether a stored copy of the
 * price page (or a page quoting it) was read for the figure; the others are the
 * figures as known from AWS's price pages, not rechecked here: assumptions until
 * someone compares them with the AWS Pricing Calculator.
 */
export interface Price {
  usd: number;
  unit: string;
  source: string;
  checked: boolean;
}

export const PRICES_AS_OF = "2026-12-01";

const fargatePage =
  "aws.amazon.com/fargate/pricing (Linux/ARM), as quoted by vantage.sh and cloudburn.io, March 2026";
const cloudFrontPage = "aws.amazon.com/cloudfront/pricing (United States, Mexico, Canada)";

export const PRICES = {
  fargateVcpuHour: { usd: 0.03238, unit: "vCPU-hour", source: fargatePage, checked: true },
  fargateGbHour: { usd: 0.00356, unit: "GB-hour", source: fargatePage, checked: true },
  nlbHour: {
    usd: 0.0225,
    unit: "NLB-hour",
    source: "aws.amazon.com/elasticloadbalancing/pricing",
    checked: false,
  },
  nlbLcuHour: {
    usd: 0.006,
    unit: "NLCU-hour",
    source: "aws.amazon.com/elasticloadbalancing/pricing",
    checked: false,
  },
  natHour: {
    usd: 0.045,
    unit: "NAT gateway-hour",
    source: "aws.amazon.com/vpc/pricing",
    checked: false,
  },
  crossAzGb: {
    usd: 0.02,
    unit: "GB between AZs ($0.01 out + $0.01 in)",
    source: "aws.amazon.com/ec2/pricing/on-demand (data transfer within the region)",
    checked: false,
  },
  cloudFrontHttps10k: {
    usd: 0.01,
    unit: "10,000 HTTPS requests",
    source: cloudFrontPage,
    checked: false,
  },
  mskBrokerHour: {
    usd: 0.204,
    unit: "kafka.m7g.large broker-hour",
    source: "aws.amazon.com/msk/pricing",
    checked: false,
  },
  mskStorageGbMonth: {
    usd: 0.1,
    unit: "GB-month",
    source: "aws.amazon.com/msk/pricing",
    checked: false,
  },
  rdsInstanceHour: {
    usd: 0.478,
    unit: "db.r7g.xlarge PostgreSQL Single-AZ hour (Multi-AZ: twice)",
    source: "aws.amazon.com/rds/postgresql/pricing",
    checked: false,
  },
  rdsGp3GbMonth: {
    usd: 0.115,
    unit: "gp3 GB-month (Multi-AZ: twice)",
    source: "aws.amazon.com/rds/postgresql/pricing",
    checked: false,
  },
  cacheNodeHour: {
    usd: 0.219,
    unit: "cache.r7g.large node-hour",
    source: "aws.amazon.com/elasticache/pricing",
    checked: false,
  },
} as const satisfies Record<string, Price>;

/** A monthly volume tier: up to `upToGb` (cumulative) at `usd` per GB. */
export interface Tier {
  upToGb: number;
  usd: number;
}

/** Data transfer out to the internet from the region (EC2, NLB), per month. */
export const INTERNET_EGRESS_TIERS: { tiers: Tier[]; source: string; checked: boolean } = {
  tiers: [
    { upToGb: 10_240, usd: 0.09 },
    { upToGb: 51_200, usd: 0.085 },
    { upToGb: 153_600, usd: 0.07 },
    { upToGb: Number.POSITIVE_INFINITY, usd: 0.05 },
  ],
  source: "aws.amazon.com/ec2/pricing/on-demand (data transfer out to the internet)",
  checked: false,
};

/** CloudFront data transfer out to the internet, per month. */
export const CLOUDFRONT_EGRESS_TIERS: { tiers: Tier[]; source: string; checked: boolean } = {
  tiers: [
    { upToGb: 10_240, usd: 0.085 },
    { upToGb: 51_200, usd: 0.08 },
    { upToGb: 153_600, usd: 0.06 },
    { upToGb: 512_000, usd: 0.04 },
    { upToGb: 1_048_576, usd: 0.03 },
    { upToGb: 5_242_880, usd: 0.025 },
    { upToGb: Number.POSITIVE_INFINITY, usd: 0.02 },
  ],
  source: cloudFrontPage,
  checked: true,
};

export const HOURS_PER_MONTH = 730;

/** Dollars for `gb` in one month at tiered prices (each tier's GB at its own price). */
export function tieredCost(gb: number, tiers: readonly Tier[]): number {
  let cost = 0;
  let from = 0;
  for (const t of tiers) {
    if (gb <= from) break;
    cost += (Math.min(gb, t.upToGb) - from) * t.usd;
    from = t.upToGb;
  }
  return cost;
}

/** Dollars per hour for a sustained `gbPerHour`, billed in monthly tiers. */
export function tieredHourly(gbPerHour: number, tiers: readonly Tier[]): number {
  return tieredCost(gbPerHour * HOURS_PER_MONTH, tiers) / HOURS_PER_MONTH;
}
