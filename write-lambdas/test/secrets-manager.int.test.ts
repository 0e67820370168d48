import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { freshTopics, testServices } from "@million-rps/local/testing";
import { createLogger } from "@million-rps/shared/pino-logger";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWriteServer } from "../src/adapter/server";

/**
 * JWT_SECRET_ARN through the real AWS SDK client: the endpoint is a loopback
 * stand-in speaking Secrets Manager's JSON protocol (AWS_ENDPOINT_URL_SECRETS_MANAGER,
 * as compose points it at LocalStack), so the SDK call itself is exercised.
 */
const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:million-rps-jwt-AbCdEf";
const log = createLogger("secrets-test", { level: "error", write: () => {} });
const secret = randomBytes(32).toString("base64url");

let endpoint: Server;
let topic: string;
let behaviour: "ok" | "down" | "short" = "ok";
const calls: { target: string; secretId: string }[] = [];

beforeAll(async () => {
  ({ topic } = await freshTopics(1));
  endpoint = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      calls.push({ target: String(req.headers["x-amz-target"]), secretId: SecretId });
      if (behaviour === "down") return res.writeHead(503).end();
      const text = behaviour === "short" ? "short-secret" : secret;
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      res.end(
        JSON.stringify({ ARN, Name: "million-rps-jwt", SecretString: text, VersionId: "v1" }),
      );
    });
  });
  await new Promise<void>((resolve) => endpoint.listen(0, "127.0.0.1", resolve));
  // The SDK reads these from the process environment, as it would on AWS or in compose.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`,
    AWS_ACCESS_KEY_ID: "AKIAFAKEFORTESTS",
    AWS_SECRET_ACCESS_KEY: "fake-secret-for-tests",
    AWS_MAX_ATTEMPTS: "1",
  });
});

afterAll(async () => {
  await new Promise((resolve) => endpoint?.close(resolve));
});

async function adapter() {
  return startWriteServer({
    port: 0,
    log,
    env: {
      KAFKA_BROKERS: testServices().kafkaBrokers.join(","),
      KAFKA_TODO_TOPIC: topic,
      JWT_SECRET_ARN: ARN,
      AWS_REGION: "eu-west-1",
      KAFKA_SEND_TIMEOUT_MS: "2000",
    },
  });
}

async function post(url: string, key = secret) {
  const token = await new SignJWT({ sub: "alice" })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(key));
  const res = await fetch(`${url}/todos`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: '{"title":"x"}',
  });
  return {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    body: (await res.json()) as { error?: { code: string } },
  };
}

describe("HS256 secret from Secrets Manager", () => {
  it("fetches the secret once per cold start with GetSecretValue and verifies with it", async () => {
    behaviour = "ok";
    calls.length = 0;
    const server = await adapter();
    try {
      for (let i = 0; i < 3; i++) expect((await post(server.url)).status).toBe(202);
      expect((await post(server.url, randomBytes(32).toString("hex"))).status).toBe(401);
      expect(calls).toEqual([{ target: "secretsmanager.GetSecretValue", secretId: ARN }]);
    } finally {
      await server.close();
    }
  });

  it("answers 503 with Retry-After while Secrets Manager fails, and recovers without a restart", async () => {
    behaviour = "down";
    const server = await adapter();
    try {
      const down = await post(server.url);
      expect([down.status, down.retryAfter, down.body.error?.code]).toEqual([
        503,
        "2",
        "auth_unavailable",
      ]);
      behaviour = "ok";
      expect((await post(server.url)).status).toBe(202);
    } finally {
      await server.close();
    }
  });

  it("answers 500 misconfigured for a secret shorter than 32 bytes", async () => {
    behaviour = "short";
    const server = await adapter();
    try {
      const res = await post(server.url, "short-secret");
      expect([res.status, res.body.error?.code]).toEqual([500, "misconfigured"]);
    } finally {
      await server.close();
    }
  });
});
