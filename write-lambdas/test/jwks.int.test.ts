import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { freshTopics, testServices } from "@million-rps/local/testing";
import { createLogger } from "@million-rps/shared/pino-logger";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWriteServer, type WriteServer } from "../src/adapter/server";
import { messagesOn } from "./kafka-support";

/**
 * A real identity provider's shape: keys from a JWKS URL (served on loopback),
 * issuer and audience enforced, asymmetric algorithms only. Writes go to the
 * test run's real Kafka.
 */
const ISSUER = "https://idp.test/";
const AUDIENCE = "todos-api";
const log = createLogger("jwks-test", { level: "error", write: () => {} });

let idp: Server;
let jwksUrl: string;
let server: WriteServer;
let topic: string;
let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
let ec: Awaited<ReturnType<typeof generateKeyPair>>;

const claims = { sub: "idp|alice", iss: ISSUER, aud: AUDIENCE };
const sign = (alg: string, kid: string, key: Parameters<SignJWT["sign"]>[0], extra = {}) =>
  new SignJWT({ ...claims, ...extra })
    .setProtectedHeader({ alg, kid })
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(key);

function start(env: Record<string, string>) {
  return startWriteServer({
    port: 0,
    log,
    env: {
      KAFKA_BROKERS: testServices().kafkaBrokers.join(","),
      KAFKA_TODO_TOPIC: topic,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_ALGORITHMS: "RS256,ES256",
      KAFKA_SEND_TIMEOUT_MS: "2000",
      ...env,
    },
  });
}

async function post(target: WriteServer, token: string) {
  const res = await fetch(`${target.url}/todos`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: '{"title":"from the idp"}',
  });
  return {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    body: (await res.json()) as { error?: { code: string; message: string } },
  };
}

beforeAll(async () => {
  ({ topic } = await freshTopics(1));
  rsa = await generateKeyPair("RS256", { extractable: true });
  ec = await generateKeyPair("ES256", { extractable: true });
  const keys = [
    { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
    { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" },
  ];
  idp = createServer((req, res) => {
    if (req.url !== "/.well-known/jwks.json") return res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => idp.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/.well-known/jwks.json`;
  server = await start({ JWKS_URL: jwksUrl });
});

afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => idp?.close(resolve));
});

describe("JWKS verification through the local adapter", () => {
  it("accepts RS256 and ES256 tokens from keys in the set", async () => {
    const before = await messagesOn(testServices().kafkaBrokers, topic);
    expect((await post(server, await sign("RS256", "rsa-1", rsa.privateKey))).status).toBe(202);
    expect((await post(server, await sign("ES256", "ec-1", ec.privateKey))).status).toBe(202);
    expect(await messagesOn(testServices().kafkaBrokers, topic)).toBe(before + 2);
  });

  it("refuses HS256 signed with the RSA public key (HS/RS confusion), a foreign key and a wrong issuer", async () => {
    const before = await messagesOn(testServices().kafkaBrokers, topic);
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const foreign = await generateKeyPair("RS256");
    for (const token of [
      await sign("HS256", "rsa-1", pem),
      await sign("RS256", "rsa-1", foreign.privateKey),
      await sign("RS256", "rsa-1", rsa.privateKey, { iss: "https://evil.test/" }),
      await sign("RS256", "rsa-1", rsa.privateKey, { aud: "other-api" }),
    ]) {
      const res = await post(server, token);
      expect(res.status).toBe(401);
      expect(res.body.error?.code).toBe("invalid_token");
    }
    expect(await messagesOn(testServices().kafkaBrokers, topic)).toBe(before);
  });

  it("answers 503 with Retry-After when the JWKS cannot be fetched, and nothing reaches Kafka", async () => {
    const before = await messagesOn(testServices().kafkaBrokers, topic);
    const cold = await start({
      JWKS_URL: jwksUrl.replace("jwks.json", "missing.json"),
      WRITE_RETRY_AFTER_SEC: "4",
    });
    try {
      const res = await post(cold, await sign("RS256", "rsa-1", rsa.privateKey));
      expect([res.status, res.retryAfter, res.body.error?.code]).toEqual([
        503,
        "4",
        "auth_unavailable",
      ]);
    } finally {
      await cold.close();
    }
    expect(await messagesOn(testServices().kafkaBrokers, topic)).toBe(before);
  });

  it("keeps verifying with cached keys while the IdP is down", async () => {
    await new Promise((resolve) => idp.close(resolve));
    idp.closeAllConnections();
    expect((await post(server, await sign("RS256", "rsa-1", rsa.privateKey))).status).toBe(202);
  });
});
