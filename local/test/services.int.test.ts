import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServices } from "../src/services";

// Regression: with nothing configured, the test profile probed the dev stack's default
// ports and, when `npm start` was running, adopted its Redis and Postgres: a benchmark
// once wrote 198k commands into the developer's database.
describe("startServices in the test profile", () => {
  let squatter: Server | undefined;

  beforeAll(async () => {
    // Something listens on the dev Redis port (the dev stack itself, or this stand-in).
    squatter = await new Promise<Server | undefined>((resolve) => {
      const srv = createServer();
      srv.once("error", () => resolve(undefined)); // already taken: just as good
      srv.listen(56379, "127.0.0.1", () => resolve(srv));
    });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => (squatter ? squatter.close(() => resolve()) : resolve()));
  });

  it("never adopts a service on the dev ports unless it is configured", async () => {
    const services = await startServices({ profile: "test", env: {}, only: ["redis"] });
    try {
      expect(services.reports).toEqual([
        expect.objectContaining({ name: "redis", mode: "started" }),
      ]);
      expect(new URL(services.endpoints.redisUrl).port).not.toBe("56379");
    } finally {
      await services.stop();
    }
  });
});
