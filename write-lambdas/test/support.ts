import { type CommandEnvelope, DependencyError } from "@million-rps/shared";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import {
  type Claim,
  claimFromEntry,
  type IdempotencyStore,
  inFlightEntry,
  type StoredAnswer,
} from "../src/idempotency/idempotency-store";
import type { CommandSender } from "../src/kafka/command-sender";

/** A payload v2 event as API Gateway builds it, for the pure parts' tests. */
export function event(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string; base64?: boolean; id?: string } = {},
): APIGatewayProxyEventV2 {
  const item = path.startsWith("/todos/");
  return {
    version: "2.0",
    routeKey: item ? `${method} /todos/{id}` : `${method} /todos`,
    rawPath: path,
    rawQueryString: "",
    headers: options.headers ?? {},
    ...(item && { pathParameters: { id: options.id ?? path.slice("/todos/".length) } }),
    requestContext: {
      accountId: "test",
      apiId: "test",
      domainName: "test",
      domainPrefix: "test",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" },
      requestId: "req-1",
      routeKey: `${method} ${path}`,
      stage: "$default",
      time: "01/Jan/2026:00:00:00 +0000",
      timeEpoch: 0,
    },
    ...(options.body !== undefined && { body: options.body }),
    isBase64Encoded: options.base64 ?? false,
  };
}

export const JSON_TYPE = { "content-type": "application/json" };

/** Records commands instead of producing them: unit tests of the handler logic only. */
export function recordingSender(fail?: () => Error): CommandSender & { sent: CommandEnvelope[] } {
  const sent: CommandEnvelope[] = [];
  return {
    sent,
    async send(command) {
      if (fail) throw fail();
      sent.push(command);
    },
    async close() {},
  };
}

/**
 * The Redis store's semantics in process (the same pure entry format), for the
 * handler's unit tests; `calls` counts every use, `down` makes each one fail.
 */
export function memoryIdempotencyStore(): IdempotencyStore & {
  entries: Map<string, string>;
  calls: number;
  down: boolean;
} {
  const entries = new Map<string, string>();
  const store = {
    entries,
    calls: 0,
    down: false,
    use() {
      store.calls++;
      if (store.down) throw new DependencyError("redis", "Redis is down (test)");
    },
    async claim(key: string, fingerprint: string): Promise<Claim> {
      store.use();
      const existing = entries.get(key);
      if (existing === undefined) {
        const entry = inFlightEntry(fingerprint, String(store.calls));
        entries.set(key, entry);
        return { kind: "claimed", entry };
      }
      const claim = claimFromEntry(existing, fingerprint);
      if (claim === null) throw new Error("unreadable entry");
      return claim;
    },
    async complete(key: string, entry: string, fingerprint: string, answer: StoredAnswer) {
      store.use();
      const current = entries.get(key);
      if (current === undefined || current === entry) {
        entries.set(key, JSON.stringify({ v: 1, state: "done", fp: fingerprint, answer }));
      }
    },
    async release(key: string, entry: string) {
      store.use();
      if (entries.get(key) === entry) entries.delete(key);
    },
  };
  return store;
}
