import { availableParallelism } from "node:os";
import { ConfigError } from "@million-rps/shared/config";
import { describe, expect, it } from "vitest";
import { DEFAULT_CACHE_CONTROL, loadConfig } from "../src/config";

describe("loadConfig", () => {
  it("has defaults for everything", () => {
    const c = loadConfig({});
    expect(c.httpPort).toBe(8080);
    expect(c.adminPort).toBe(9464);
    expect(c.adminHost).toBe("127.0.0.1");
    expect(c.processes).toBe(Math.max(1, availableParallelism()));
    expect(c.dbPoolSize).toBe(2);
    expect(c.cacheControl).toBe(DEFAULT_CACHE_CONTROL);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("names every bad variable at once", () => {
    try {
      loadConfig({
        HTTP_PORT: "http",
        READ_PROCESSES: "0",
        CACHE_CONTROL: "max-age=1\r\nSet-Cookie: x=1",
        REDIS_URL: "http://x",
        ADMIN_HOST: "a b",
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const vars = (err as ConfigError).problems.map((p) => p.variable).sort();
      expect(vars).toEqual([
        "ADMIN_HOST",
        "CACHE_CONTROL",
        "HTTP_PORT",
        "READ_PROCESSES",
        "REDIS_URL",
      ]);
      expect((err as Error).message).toContain("READ_PROCESSES");
    }
  });

  it("reads the fleet's own variables", () => {
    const c = loadConfig({
      READ_PROCESSES: "3",
      CACHE_CONTROL: "no-cache",
      L1_MAX_ENTRIES: "50",
      CHANGE_POLL_MS: "200",
      ADMIN_HOST: "0.0.0.0",
    });
    expect([c.processes, c.cacheControl, c.l1MaxEntries, c.changePollMs, c.adminHost]).toEqual([
      3,
      "no-cache",
      50,
      200,
      "0.0.0.0",
    ]);
  });

  it("refuses a UWS_BUILD it does not know, and reads OPENAPI_PATH through its reader", () => {
    expect(() => loadConfig({ UWS_BUILD: "newest" })).toThrow(/UWS_BUILD: must be one of auto/);
    expect(loadConfig({}).openapiPath).toMatch(/shared\/openapi\.yaml$/);
    expect(loadConfig({ OPENAPI_PATH: "/app/openapi.yaml" }).openapiPath).toBe("/app/openapi.yaml");
  });
});
