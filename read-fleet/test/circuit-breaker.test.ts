import { describe, expect, it } from "vitest";
import { CircuitBreaker, CircuitOpenError } from "../src/circuit-breaker";

describe("CircuitBreaker", () => {
  it("opens after consecutive failures, half-opens after the wait, closes on success", async () => {
    let now = 0;
    const b = new CircuitBreaker("pg", 3, 1000, () => now);
    const boom = () => Promise.reject(new Error("down"));
    for (let i = 0; i < 3; i++) await expect(b.run(boom)).rejects.toThrow("down");
    expect(b.state).toBe("open");
    await expect(b.run(() => Promise.resolve(1))).rejects.toBeInstanceOf(CircuitOpenError);
    now = 1000;
    expect(b.state).toBe("half-open");
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(false); // one trial at a time
    b.success();
    expect(b.state).toBe("closed");
    await expect(b.run(() => Promise.resolve(2))).resolves.toBe(2);
  });

  it("re-opens when the half-open trial fails", async () => {
    let now = 0;
    const b = new CircuitBreaker("redis", 1, 500, () => now);
    await expect(b.run(() => Promise.reject(new Error("x")))).rejects.toThrow();
    now = 600;
    await expect(b.run(() => Promise.reject(new Error("y")))).rejects.toThrow("y");
    expect(b.state).toBe("open");
    now = 1000;
    expect(b.state).toBe("open");
    now = 1100;
    expect(b.state).toBe("half-open");
  });

  it("a success resets the failure count", async () => {
    const b = new CircuitBreaker("pg", 2, 1000, () => 0);
    await expect(b.run(() => Promise.reject(new Error("x")))).rejects.toThrow();
    await b.run(() => Promise.resolve(0));
    await expect(b.run(() => Promise.reject(new Error("x")))).rejects.toThrow();
    expect(b.state).toBe("closed");
  });
});
