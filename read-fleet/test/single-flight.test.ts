import { describe, expect, it } from "vitest";
import { SingleFlight } from "../src/single-flight";

/** A promise and the functions that settle it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("SingleFlight", () => {
  it("makes one call for callers of the same key and gives them its result", async () => {
    const flights = new SingleFlight<string, number>();
    const gate = deferred<number>();
    let calls = 0;
    const call = () => {
      calls++;
      return gate.promise;
    };
    const a = flights.run("k", call);
    const b = flights.run("k", call);
    expect(b).toBe(a);
    expect(calls).toBe(1);
    expect(flights.size).toBe(1);
    gate.resolve(7);
    await expect(Promise.all([a, b])).resolves.toEqual([7, 7]);
  });

  it("runs different keys separately", async () => {
    const flights = new SingleFlight<string, string>();
    const a = flights.run("a", () => Promise.resolve("A"));
    const b = flights.run("b", () => Promise.resolve("B"));
    expect(flights.size).toBe(2);
    await expect(Promise.all([a, b])).resolves.toEqual(["A", "B"]);
  });

  it("drops the key once the call resolves: the next caller calls again", async () => {
    const flights = new SingleFlight<string, number>();
    let calls = 0;
    const call = () => Promise.resolve(++calls);
    await expect(flights.run("k", call)).resolves.toBe(1);
    expect(flights.size).toBe(0);
    await expect(flights.run("k", call)).resolves.toBe(2);
  });

  it("drops the key when the call rejects too, and every caller sees the rejection", async () => {
    const flights = new SingleFlight<string, number>();
    const gate = deferred<number>();
    const a = flights.run("k", () => gate.promise);
    const b = flights.run("k", () => Promise.resolve(0));
    gate.reject(new Error("down"));
    await expect(a).rejects.toThrow("down");
    await expect(b).rejects.toThrow("down");
    expect(flights.size).toBe(0);
    await expect(flights.run("k", () => Promise.resolve(1))).resolves.toBe(1);
  });
});
