import { afterEach, describe, expect, it } from "vitest";
import { type AdminEndpoints, type AdminServer, startAdminServer } from "../src/admin-server";

const PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

let server: AdminServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(endpoints: Partial<AdminEndpoints> = {}): Promise<string> {
  server = await startAdminServer("127.0.0.1", 0, {
    metrics: async () => "up 1\n",
    contentType: PROMETHEUS,
    ...endpoints,
  });
  return `http://127.0.0.1:${server.port}`;
}

async function call(url: string, method = "GET") {
  const res = await fetch(url, { method });
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    allow: res.headers.get("allow"),
    body: await res.text(),
  };
}

describe("startAdminServer", () => {
  it("serves /metrics with the content type it is given, and no body to HEAD", async () => {
    const base = await start();
    expect(await call(`${base}/metrics`)).toMatchObject({
      status: 200,
      type: PROMETHEUS,
      body: "up 1\n",
    });
    expect(await call(`${base}/metrics?name=up`)).toMatchObject({ status: 200, body: "up 1\n" });
    expect(await call(`${base}/metrics`, "HEAD")).toMatchObject({
      status: 200,
      type: PROMETHEUS,
      body: "",
    });
  });

  it("answers a failing metrics collection with 500 and the error body", async () => {
    const base = await start({ metrics: () => Promise.reject(new Error("boom")) });
    const r = await call(`${base}/metrics`);
    expect(r).toMatchObject({ status: 500, type: "application/json" });
    expect(JSON.parse(r.body)).toEqual({ error: { code: "internal", message: "metrics failed" } });
  });

  it("/healthz is ok without a liveness check, 503 once it says failed", async () => {
    let healthy = true;
    const alive = await start();
    expect(await call(`${alive}/healthz`)).toEqual({
      status: 200,
      type: "application/json",
      allow: null,
      body: '{"status":"ok"}',
    });
    await server?.close();
    const checked = await start({ healthy: () => healthy });
    expect((await call(`${checked}/healthz`)).status).toBe(200);
    healthy = false;
    expect(await call(`${checked}/healthz`)).toMatchObject({
      status: 503,
      body: '{"status":"failed"}',
    });
    expect(await call(`${checked}/healthz`, "HEAD")).toMatchObject({ status: 503, body: "" });
  });

  it("answers unknown paths with 404 in the project's error shape", async () => {
    const base = await start();
    for (const path of ["/", "/nope", "/metrics/", "/healthz/x"]) {
      const r = await call(`${base}${path}`);
      expect(r, path).toMatchObject({ status: 404, type: "application/json" });
      expect(JSON.parse(r.body)).toEqual({ error: { code: "not_found", message: "no such path" } });
    }
  });

  it("refuses other methods with 405, Allow and the error shape", async () => {
    const base = await start();
    for (const method of ["POST", "PUT", "DELETE"]) {
      const r = await call(`${base}/metrics`, method);
      expect(r, method).toMatchObject({
        status: 405,
        type: "application/json",
        allow: "GET, HEAD",
      });
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: "method_not_allowed" } });
    }
  });

  it("close() ends kept-alive connections and frees the port", async () => {
    const base = await start();
    await call(`${base}/healthz`); // fetch keeps the connection alive
    const port = server?.port;
    await server?.close();
    server = undefined;
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    server = await startAdminServer("127.0.0.1", port ?? 0, {
      metrics: async () => "",
      contentType: PROMETHEUS,
    });
    expect(server.port).toBe(port);
  });
});
