import { describe, expect, it } from "vitest";
import { DependencyError } from "../src/errors";
import { createLogger } from "../src/log";

describe("createLogger", () => {
  it("writes one JSON line per record, with the error's cause chain", () => {
    const lines: string[] = [];
    const log = createLogger("t", { level: "info", write: (l) => lines.push(l) });
    const root = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), {
      code: "ECONNREFUSED",
    });
    log.warn("fill failed", {
      err: new DependencyError("postgres", "Postgres is unavailable", { cause: root }),
    });
    log.debug("hidden at info");
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    expect(record).toMatchObject({
      level: "warn",
      msg: "fill failed",
      component: "t",
      err: {
        name: "DependencyError",
        message: "Postgres is unavailable",
        cause: {
          name: "Error",
          message: "connect ECONNREFUSED 127.0.0.1:5432",
          code: "ECONNREFUSED",
        },
      },
    });
    expect(JSON.stringify(record)).not.toContain("stack");
  });
});
