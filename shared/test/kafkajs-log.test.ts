import { logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";
import { kafkajsLogCreator } from "../src/kafkajs-log";
import type { Logger } from "../src/log";

/** A Logger that records what it was given. */
function recorder() {
  const lines: { level: string; msg: string; fields: Record<string, unknown> | undefined }[] = [];
  const at =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, msg, fields });
    };
  const log: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: () => log,
  };
  return { log, lines };
}

function entry(level: logLevel, message: string, extra: Record<string, unknown> = {}) {
  return {
    namespace: "Connection",
    level,
    label: "ERROR",
    log: { timestamp: "2026-12-02T00:00:00.000Z", message, ...extra },
  };
}

describe("kafkajsLogCreator", () => {
  it("writes kafkajs's entries as the deployable's own lines, at their level", () => {
    const { log, lines } = recorder();
    const write = kafkajsLogCreator(log)(logLevel.DEBUG);
    write(entry(logLevel.ERROR, "Connection error", { broker: "b:9092", stack: "Error: at ..." }));
    write(entry(logLevel.WARN, "slow"));
    write(entry(logLevel.INFO, "joined"));
    write(entry(logLevel.DEBUG, "request"));
    expect(lines).toEqual([
      // The repeated stack and kafkajs's own timestamp are dropped; the rest are fields.
      {
        level: "error",
        msg: "Connection error",
        fields: { namespace: "Connection", broker: "b:9092" },
      },
      { level: "warn", msg: "slow", fields: { namespace: "Connection" } },
      { level: "info", msg: "joined", fields: { namespace: "Connection" } },
      { level: "debug", msg: "request", fields: { namespace: "Connection" } },
    ]);
  });

  it("logs what `demote` picks at debug, whatever its level", () => {
    const { log, lines } = recorder();
    const write = kafkajsLogCreator(log, (m) => m.startsWith("expected"))(logLevel.DEBUG);
    write(entry(logLevel.ERROR, "expected noise"));
    write(entry(logLevel.ERROR, "a real error"));
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ["debug", "expected noise"],
      ["error", "a real error"],
    ]);
  });
});
