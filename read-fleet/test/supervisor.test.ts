import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { processExecArgv, sendToProcess } from "../src/supervisor";

describe("sendToProcess", () => {
  it("reports a send to a worker that just died, instead of an EPIPE that crashes", async () => {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      stdio: ["ignore", "ignore", "ignore", "ipc"],
    });
    await once(child, "spawn");
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    // Keep the event loop busy so the parent has not yet seen the channel close: the
    // window in which /metrics (which asks every worker) raced a death on CI.
    const until = Date.now() + 200;
    while (Date.now() < until) {}
    expect(child.connected).toBe(true);
    await new Promise<void>((resolve) => sendToProcess(child, { type: "metrics", id: 1 }, resolve));
    await exited;
  });
});

describe("processExecArgv", () => {
  it("adds V8's initial old-space size to the supervisor's flags, unless they set one or it is 0", () => {
    expect(processExecArgv(["--import", "tsx"], 128)).toEqual([
      "--import",
      "tsx",
      "--initial-old-space-size=128",
    ]);
    expect(processExecArgv(["--initial-old-space-size=32"], 128)).toEqual([
      "--initial-old-space-size=32",
    ]);
    expect(processExecArgv(["--import", "tsx"], 0)).toEqual(["--import", "tsx"]);
  });
});
