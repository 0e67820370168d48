import { describe, expect, it } from "vitest";
import { newClusterId } from "../src/kafka";

// Regression: the broker's storage format failed about once in 64 starts with
// "argument --cluster-id/-t: expected one argument": the random id began with "-".
describe("newClusterId", () => {
  it("never starts with a dash, drawing again when the bytes would", () => {
    const draws = [Buffer.from([0xfb, ...Array(15).fill(1)]), Buffer.alloc(16, 7)];
    expect(draws[0]?.toString("base64url").startsWith("-")).toBe(true);
    const id = newClusterId(() => draws.shift() as Buffer);
    expect(id).toBe(Buffer.alloc(16, 7).toString("base64url"));
    for (let i = 0; i < 500; i++) expect(newClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});
