import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { DependencyError } from "@million-rps/shared";
import { REDACTED } from "@million-rps/shared/log";
import { afterEach, describe, expect, it, vi } from "vitest";
import { emfWriteMetrics } from "../src/telemetry/emf-metrics";
import { powertoolsLog } from "../src/telemetry/powertools-log";

/** Powertools writes warnings and errors to stderr, the rest to stdout (both reach CloudWatch). */
function captureOutput() {
  const chunks: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
      return true;
    });
  }
  return () =>
    chunks
      .join("")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
}

afterEach(() => vi.restoreAllMocks());

describe("powertoolsLog", () => {
  it("applies the containers' redaction and error policy to Powertools' lines", () => {
    const lines = captureOutput();
    const log = powertoolsLog(new Logger({ serviceName: "t", logLevel: "INFO" }), false).child({
      dependency: "redis",
    });
    log.warn("redis connection error", {
      err: Object.assign(new DependencyError("redis", "cannot reach rediss://:tok3n@cache:6379"), {
        config: { headers: { authorization: "Bearer leaked" } },
      }),
      headers: { authorization: "Bearer header-token", "x-request": "1" },
      REDIS_PASSWORD: "redis-secret",
    });
    log.debug("below the level");
    const out = lines();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      level: "WARN",
      message: "redis connection error",
      service: "t",
      dependency: "redis",
      headers: { authorization: REDACTED, "x-request": "1" },
      REDIS_PASSWORD: REDACTED,
      err: {
        name: "DependencyError",
        message: `cannot reach rediss://:${REDACTED}@cache:6379`,
      },
    });
    const text = JSON.stringify(out);
    for (const secret of ["tok3n", "leaked", "header-token", "redis-secret"]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("emfWriteMetrics", () => {
  const metricsFor = () => new Metrics({ namespace: "MillionRps", serviceName: "write-api" });

  it("counts an accepted write and its send latency", () => {
    const metrics = metricsFor();
    const write = emfWriteMetrics(metrics);
    write.sent(12.5, true);
    write.answered(202);
    const emf = metrics.serializeMetrics();
    expect(emf).toMatchObject({ service: "write-api", WritesAccepted: 1, SendLatency: 12.5 });
    expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: "MillionRps",
      Dimensions: [["service"]],
      Metrics: expect.arrayContaining([
        { Name: "WritesAccepted", Unit: "Count" },
        { Name: "SendLatency", Unit: "Milliseconds" },
      ]),
    });
  });

  it("counts a refused write by its reason, a 503 and a failed send apart", () => {
    const refused = metricsFor();
    emfWriteMetrics(refused).answered(409, "idempotency_key_in_flight");
    expect(refused.serializeMetrics()).toMatchObject({
      reason: "idempotency_key_in_flight",
      WritesRefused: 1,
    });
    const unavailable = metricsFor();
    const write = emfWriteMetrics(unavailable);
    write.sent(5000, false);
    write.answered(503, "unavailable");
    expect(unavailable.serializeMetrics()).toMatchObject({
      WritesUnavailable: 1,
      SendFailedLatency: 5000,
    });
    expect(unavailable.serializeMetrics()).not.toHaveProperty("reason");
  });
});
