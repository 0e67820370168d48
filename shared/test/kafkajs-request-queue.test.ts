import RequestQueueModule from "kafkajs/src/network/requestQueue/index.js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { patchKafkajsRequestQueue, type RequestQueue } from "../src/kafkajs-request-queue";

/** kafkajs's own RequestQueue, patched, with the parts these tests drive. */
interface Queue extends RequestQueue {
  push(request: { entry: Entry; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(ms: number): void;
}
interface Entry {
  correlationId: number;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function queue(maxInFlightRequests: number | null): { q: Queue; sent: number[] } {
  patchKafkajsRequestQueue();
  const Ctor = RequestQueueModule as new (options: object) => Queue;
  const q = new Ctor({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: "test",
    broker: "localhost:9092",
    logger: quiet,
  });
  return { q, sent: [] };
}

function request(sent: number[], correlationId: number) {
  return {
    entry: { correlationId, resolve: () => {}, reject: () => {} },
    expectResponse: true,
    sendRequest: () => sent.push(correlationId),
  };
}

const answer = (correlationId: number) => ({ correlationId, payload: Buffer.alloc(0), size: 0 });

describe("kafkajs's request queue, patched", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("leaves no timer behind once its requests are answered (kafkajs re-armed a 1 ms check for ever)", () => {
    const { q, sent } = queue(null);
    q.push(request(sent, 1));
    q.fulfillRequest(answer(1));
    const checks = vi.spyOn(q, "checkPendingRequests");
    vi.advanceTimersByTime(1_000);
    expect(sent).toEqual([1]);
    expect(checks).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("sends a request held by the in-flight limit when the one ahead is answered", () => {
    const { q, sent } = queue(1);
    q.push(request(sent, 1));
    q.push(request(sent, 2));
    expect(sent).toEqual([1]);
    q.fulfillRequest(answer(1));
    expect(sent).toEqual([1, 2]);
    q.fulfillRequest(answer(2));
    vi.advanceTimersByTime(1_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("sends a request held by a broker's throttle when the throttle ends, with no answer to wake it", () => {
    const { q, sent } = queue(null);
    q.maybeThrottle(50);
    q.push(request(sent, 1));
    vi.advanceTimersByTime(40);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(20);
    expect(sent).toEqual([1]);
    q.fulfillRequest(answer(1));
    vi.advanceTimersByTime(1_000);
    expect(vi.getTimerCount()).toBe(0);
  });
});
