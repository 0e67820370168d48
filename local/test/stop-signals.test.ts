import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { onStopRequest } from "../src/stop-signals";

// A stand-in for this process: emitting "SIGINT" runs the listeners as a delivered signal would.
const signals = new EventEmitter();

describe("onStopRequest", () => {
  let dispose: (() => void) | undefined;
  afterEach(() => dispose?.());

  function listen(sameWithinMs: number) {
    const calls: string[] = [];
    dispose = onStopRequest(
      { stop: (reason) => calls.push(`stop ${reason}`), hurry: () => calls.push("hurry") },
      { sameWithinMs, signals },
    );
    return calls;
  }

  it("the first signal requests a stop", () => {
    const calls = listen(1_000);
    signals.emit("SIGHUP");
    expect(calls).toEqual(["stop SIGHUP"]);
  });

  // One Ctrl-C reaches this process from the terminal and again from npm: not a second one.
  it("the same Ctrl-C arriving twice does not hurry the stop", () => {
    const calls = listen(1_000);
    signals.emit("SIGINT");
    signals.emit("SIGINT");
    signals.emit("SIGTERM");
    expect(calls).toEqual(["stop SIGINT"]);
  });

  it("a later signal hurries it, every time", async () => {
    const calls = listen(20);
    signals.emit("SIGINT");
    await new Promise((r) => setTimeout(r, 40));
    signals.emit("SIGINT");
    signals.emit("SIGINT");
    expect(calls).toEqual(["stop SIGINT", "hurry", "hurry"]);
  });
});
