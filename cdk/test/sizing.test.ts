import { describe, expect, it } from "vitest";
import { capacityPlan, MILLION_INPUTS, wireBytes } from "../src/capacity";
import { readSettings, readSizing } from "../src/settings";
import { PROFILES, readWorkersPerTask, SizingError, validateSizing } from "../src/sizing";

const context =
  (values: Record<string, unknown>) =>
  (key: string): unknown =>
    values[key];

describe("sizing from context", () => {
  it("defaults to the small profile", () => {
    expect(readSizing(context({}))).toEqual(PROFILES.small);
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
    expect(readWorkersPerTask(PROFILES.small)).toBe(1);
    expect(readWorkersPerTask(PROFILES.million)).toBe(4);
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
  const plan = capacityPlan(MILLION_INPUTS);

  it("counts TCP/IP headers per segment on the wire", () => {
    // 1,900 bytes of payload fit two 1,448-byte segments.
    expect(wireBytes(MILLION_INPUTS, "gzip")).toBe(1_900 + 2 * 66);
    expect(plan.gzip.egressGbps).toBeCloseTo((1_000_000 * 2_032 * 8) / 1e9, 6);
  });

  it("is bound by bandwidth for identity bodies and by CPU and bandwidth alike for gzip", () => {
    expect(plan.identity.tasksForBandwidth).toBeGreaterThan(5 * plan.identity.tasksForCpu);
    expect(Math.abs(plan.gzip.tasksForBandwidth - plan.gzip.tasksForCpu)).toBeLessThanOrEqual(2);
  });

  it("is met by the million profile: gzip at the floor, identity within the ceiling", () => {
    const { read } = PROFILES.million;
    expect(read.vcpu).toBe(MILLION_INPUTS.vcpuPerTask);
    expect(read.minTasks).toBeGreaterThanOrEqual(plan.gzip.tasks);
    expect(read.maxTasks).toBeGreaterThanOrEqual(plan.identity.tasks);
    expect(read.cpuTarget / 100).toBe(MILLION_INPUTS.cpuTarget);
  });
});
