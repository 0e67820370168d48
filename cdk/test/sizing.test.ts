import { describe, expect, it } from "vitest";
import { capacityPlans, MILLION_INPUTS, wireBytes } from "../src/capacity";
import { INTERNET_EGRESS_TIERS, PRICES, tieredCost, tieredHourly } from "../src/prices";
import { readSettings, readSizing } from "../src/settings";
import {
  connectionBudget,
  fargateVcpuQuota,
  maxConnections,
  PROFILES,
  readProcessesPerTask,
  SizingError,
  validateSizing,
  writeReservedConcurrency,
} from "../src/sizing";

const context =
  (values: Record<string, unknown>) =>
  (key: string): unknown =>
    values[key];

describe("sizing from context", () => {
  it("defaults to the small profile", () => {
    expect(readSizing(context({}))).toEqual(PROFILES.small);
  });

  it("refuses a renamed key instead of ignoring it", () => {
    expect(() => readSizing(context({ workerPoolSize: "8" }))).toThrow(
      "context workerPoolSize is now workerConcurrency",
    );
    expect(readSizing(context({ workerConcurrency: "8" })).worker.concurrency).toBe(8);
  });

  it("takes CLI strings and cdk.json values alike", () => {
    const s = readSizing(
      context({ profile: "million", readMaxTasks: "40", dbMultiAz: "false", cdn: false }),
    );
    expect(s.read.maxTasks).toBe(40);
    expect(s.read.minTasks).toBe(PROFILES.million.read.minTasks);
    expect(s.database.multiAz).toBe(false);
    expect(s.cdn).toBe(false);
  });

  it("names the key of a bad value", () => {
    expect(() => readSizing(context({ readMaxTasks: "many" }))).toThrow(/readMaxTasks/);
    expect(() => readSizing(context({ cdn: "yes" }))).toThrow(/cdn/);
    expect(() => readSizing(context({ profile: "huge" }))).toThrow(/profile/);
  });

  it("refuses worker tasks beyond the partition count", () => {
    expect(() => readSizing(context({ partitions: "4", workerMaxTasks: "6" }))).toThrow(
      /maxTasks 6 exceeds partitions 4/,
    );
  });

  it("pushes cursor pages on the small profile, never to the million profile's hundreds of processes", () => {
    expect(readSizing(context({})).worker.cachedPagesPushBytes).toBe(262_144);
    expect(readSizing(context({ profile: "million" })).worker.cachedPagesPushBytes).toBe(0);
    expect(readSizing(context({ cachedPagesPushBytes: "65536" })).worker.cachedPagesPushBytes).toBe(
      65_536,
    );
    expect(() => readSizing(context({ cachedPagesPushBytes: "-1" }))).toThrow(
      /cachedPagesPushBytes/,
    );
    expect(() => readSizing(context({ cachedPagesPushBytes: "1.5" }))).toThrow(
      /cachedPagesPushBytes/,
    );
  });

  it("refuses CPU and memory pairs Fargate does not offer", () => {
    expect(() => readSizing(context({ readVcpu: "3" }))).toThrow(/not a Fargate size/);
    expect(() => readSizing(context({ readVcpu: "4", readMemoryMiB: "4096" }))).toThrow(
      /does not fit 4 vCPU/,
    );
    expect(() => readSizing(context({ readVcpu: "0.5", readMemoryMiB: "1024" }))).toThrow(
      /at least 1 vCPU/,
    );
  });

  it("takes Kafka 3.9 only, KRaft or ZooKeeper", () => {
    expect(readSizing(context({ kafkaVersion: "3.9.x" })).kafka.version).toBe("3.9.x");
    expect(() => readSizing(context({ kafkaVersion: "4.0.x" }))).toThrow(
      /3\.9\.x\.kraft or 3\.9\.x/,
    );
  });

  it("validates every shipped profile", () => {
    for (const p of Object.values(PROFILES)) expect(validateSizing(p)).toBe(p);
  });

  it("starts one read worker per vCPU", () => {
    expect(readProcessesPerTask(PROFILES.small)).toBe(1);
    expect(readProcessesPerTask(PROFILES.million)).toBe(4);
  });

  it("bounds scaling in the right order", () => {
    expect(() => readSizing(context({ readMinTasks: "5", readMaxTasks: "3" }))).toThrow(
      SizingError,
    );
  });
});

describe("other settings", () => {
  it("takes a JWKS only with issuer and audience, over https", () => {
    expect(readSettings(context({})).jwks).toBeUndefined();
    expect(() => readSettings(context({ jwksUrl: "https://id.example/jwks" }))).toThrow(
      /go together/,
    );
    expect(() =>
      readSettings(
        context({ jwksUrl: "http://id.example/jwks", jwtIssuer: "i", jwtAudience: "a" }),
      ),
    ).toThrow(/https/);
  });

  it("accepts only retention periods CloudWatch Logs knows", () => {
    expect(readSettings(context({ logRetentionDays: "14" })).logRetentionDays).toBe(14);
    expect(() => readSettings(context({ logRetentionDays: "10" }))).toThrow(/logRetentionDays/);
  });

  it("wants the CDN certificate in us-east-1", () => {
    expect(() =>
      readSettings(
        context({
          cdnDomainName: "todos.example.com",
          cdnCertificateArn: "arn:aws:acm:eu-west-1:111111111111:certificate/x",
        }),
      ),
    ).toThrow(/us-east-1/);
  });

  it("checks the NLB source CIDR", () => {
    expect(() => readSettings(context({ readAllowedCidr: "everyone" }))).toThrow(/CIDR/);
  });
});

describe("the 1M req/s arithmetic", () => {
  const plans = capacityPlans(MILLION_INPUTS);
  const plan = (encoding: "identity" | "gzip", cdn: boolean) => {
    const p = plans.find((x) => x.encoding === encoding && x.cdn === cdn);
    if (p === undefined) throw new Error("missing plan");
    return p;
  };

  it("counts TCP/IP headers per segment on the wire", () => {
    // 3,887 bytes of payload (3,587 gzip body + 300 of headers) fit three 1,448-byte segments.
    expect(wireBytes(MILLION_INPUTS, "gzip")).toBe(3_887 + 3 * 66);
    expect(plan("gzip", false).egressGbps).toBeCloseTo((1_000_000 * 4_085 * 8) / 1e9, 6);
  });

  it("uses the project's measured per-process figures (90k gzip), not the brief's orientation", () => {
    expect(MILLION_INPUTS.perProcessRps).toEqual({ identity: 70_000, gzip: 90_000 });
  });

  it("is bound by bandwidth without the CDN, and the profile's ceiling reaches that count", () => {
    const identity = plan("identity", false);
    expect(identity.tasksForBandwidth).toBeGreaterThan(5 * identity.tasksForCpu);
    expect(PROFILES.million.read.maxTasks).toBeGreaterThanOrEqual(identity.tasks);
    expect(PROFILES.million.read.minTasks).toBeGreaterThanOrEqual(plan("gzip", true).tasks);
    expect(PROFILES.million.read.vcpu).toBe(MILLION_INPUTS.vcpuPerTask);
  });

  it("bills CloudFront's requests as its largest line with the CDN on", () => {
    for (const encoding of ["identity", "gzip"] as const) {
      const { bill } = plan(encoding, true);
      const largest = Object.entries(bill).sort(([, a], [, b]) => b - a)[0]?.[0];
      expect(largest).toBe("cloudFrontRequests");
      // 3.6 billion HTTPS requests an hour at $0.01 per 10,000
      expect(bill.cloudFrontRequests).toBeCloseTo(3_600, 6);
      expect(bill.internetEgress).toBe(0);
    }
    expect(plan("identity", false).bill.cloudFrontRequests).toBe(0);
  });

  it("prices tiers per month, each GB at its own tier", () => {
    expect(tieredCost(5_000, INTERNET_EGRESS_TIERS.tiers)).toBeCloseTo(450, 6);
    expect(tieredCost(20_480, INTERNET_EGRESS_TIERS.tiers)).toBeCloseTo(
      10_240 * 0.09 + 10_240 * 0.085,
      6,
    );
    expect(tieredHourly(1, INTERNET_EGRESS_TIERS.tiers)).toBeCloseTo(0.09, 6);
  });

  it("writes down a source for every price", () => {
    for (const p of Object.values(PRICES)) expect(p.source.length).toBeGreaterThan(10);
  });
});

describe("deploy-time doubling and limits", () => {
  it("counts Postgres connections with old and new tasks side by side, and refuses too many", () => {
    const small = connectionBudget(PROFILES.small);
    expect(small).toEqual({ read: 4 * 1 * 2 * 2, worker: 2 * 5 * 2, oneOff: 3, total: 39 });
    expect(maxConnections("r7g.large")).toBeGreaterThan(1_650);
    expect(maxConnections("r7g.large")).toBeLessThan(1_750);
    // The old million profile (r7g.large, 2 connections per process) would not fit a deploy.
    expect(() =>
      readSizing(
        context({ profile: "million", dbInstanceClass: "r7g.large", readDbPoolPerProcess: "2" }),
      ),
    ).toThrow(/Postgres connections at maximum scale during a deploy/);
  });

  it("asks for the Fargate quota a deploy at maximum scale needs", () => {
    expect(fargateVcpuQuota(PROFILES.million)).toBe((170 * 4 + 24 * 1) * 2 + 1);
  });

  it("sizes write Lambda concurrency by MSK's IAM limits: the rate on t3, the account quota on m7g", () => {
    expect(writeReservedConcurrency(PROFILES.small, 3)).toMatchObject({
      perFunction: 20,
      byRate: 60,
    });
    expect(writeReservedConcurrency(PROFILES.million, 3)).toMatchObject({
      perFunction: 293,
      byAccount: 880,
    });
    expect(writeReservedConcurrency(PROFILES.million, 3, 5_000).perFunction).toBe(376);
  });

  it("wants a subscriber for the million profile's alarms", () => {
    expect(() => readSettings(context({ profile: "million" }))).toThrow(/alarmEmail/);
    expect(
      readSettings(context({ profile: "million", alarmEmail: "none" })).alarmEmail,
    ).toBeUndefined();
    expect(
      readSettings(context({ profile: "million", alarmEmail: "a@example.com" })).alarmEmail,
    ).toBe("a@example.com");
    expect(() => readSettings(context({ alarmEmail: "nobody" }))).toThrow(/e-mail/);
  });
});
