import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { freePort, freshTopics, testServices, waitUntil } from "@million-rps/local/testing";
import { DEV_JWT_SECRET, mintDevToken } from "@million-rps/shared/dev-token";
import { afterAll, describe, expect, it } from "vitest";

/** `write-lambdas/src/adapter/main.ts` as a process: JSON logs, one ready line, graceful SIGTERM. */
const MAIN = join(import.meta.dirname, "..", "src", "adapter", "main.ts");
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
// No .env in the working directory, so only what the test passes counts.
const cwd = mkdtempSync(join(tmpdir(), "write-main-"));

interface Running {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  exit: Promise<number | null>;
}

function run(env: Record<string, string>): Running {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(JWT_|JWKS_|KAFKA_|WRITE_HTTP_)/.test(k)),
  );
  const child = spawn(process.execPath, ["--import", TSX, MAIN], {
    cwd,
    env: { ...base, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  let partial = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const complete = text.split("\n");
    partial = complete.pop() ?? "";
    // Every stdout line is one JSON object: JSON.parse throws (and fails the test) otherwise.
    for (const line of complete) if (line !== "") lines.push(JSON.parse(line));
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, lines, exit };
}

afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe("the local write API process", () => {
  it("logs one ready line, serves writes with the dev secret, and stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    const { topic } = await freshTopics(1);
    const proc = run({
      WRITE_HTTP_PORT: String(port),
      KAFKA_BROKERS: testServices().kafkaBrokers.join(","),
      KAFKA_TODO_TOPIC: topic,
    });
    try {
      await waitUntil("the ready line", () => proc.lines.some((l) => l.msg === "ready"), {
        timeoutMs: 30_000,
      });
      expect(proc.lines.filter((l) => l.msg === "ready")).toEqual([
        expect.objectContaining({
          level: "info",
          port,
          topic,
          jwt: "secret",
          url: `http://127.0.0.1:${port}`,
        }),
      ]);
      expect(
        proc.lines.some((l) => l.level === "warn" && String(l.msg).includes("dev secret")),
      ).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const token = await mintDevToken("alice", { secret: DEV_JWT_SECRET, ttlSec: 60 });
      const res = await fetch(`http://127.0.0.1:${port}/todos`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: '{"title":"from the process"}',
      });
      expect(res.status).toBe(202);
      proc.child.kill("SIGTERM");
      expect(await proc.exit).toBe(0);
      expect(proc.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(["stopping", "stopped"]));
    } finally {
      proc.child.kill("SIGKILL");
    }
  });

  it("refuses to start with a short JWT_SECRET, naming the variable and not the value", async () => {
    const proc = run({
      WRITE_HTTP_PORT: String(await freePort()),
      JWT_SECRET: "hunter2-is-too-short",
    });
    expect(await proc.exit).toBe(1);
    const failure = proc.lines.find((l) => l.msg === "invalid configuration");
    expect(JSON.stringify(failure)).toMatch(/JWT_SECRET must be at least 32 bytes/);
    expect(JSON.stringify(proc.lines)).not.toContain("hunter2");
  });
});
