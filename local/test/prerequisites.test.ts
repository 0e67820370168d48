import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../src/paths";
import { needsFor, PREREQUISITES } from "../src/prerequisites";

const ALL = ["postgres", "redis", "kafka"] as const;
const ids = (needs: ReturnType<typeof needsFor>) =>
  needs.map((n) => `${n.prerequisite.id}${n.required ? "" : "?"}`);

describe("the prerequisites list", () => {
  it("names each prerequisite and Debian package once", () => {
    expect(new Set(PREREQUISITES.map((p) => p.id)).size).toBe(PREREQUISITES.length);
    expect(new Set(PREREQUISITES.map((p) => p.debianPackage)).size).toBe(PREREQUISITES.length);
  });

  it("says why each one is needed", () => {
    for (const p of PREREQUISITES) expect(p.why.length, p.id).toBeGreaterThan(10);
  });
});

describe("needsFor", () => {
  it("npm start with every service private: the services' packages, plus wrk and curl if it can", () => {
    expect(ids(needsFor("start", { privateServices: ALL, kafkaJarsCached: false }))).toEqual([
      "postgres",
      "redis",
      "java",
      "maven",
      "wrk?",
      "curl?",
    ]);
  });

  it("a configured endpoint that answers needs no binary for its service", () => {
    const needs = needsFor("start", { privateServices: ["redis"], kafkaJarsCached: false });
    expect(ids(needs)).toEqual(["redis", "wrk?", "curl?"]);
  });

  it("Maven only until the Kafka jars are cached", () => {
    const needs = needsFor("test", { privateServices: ALL, kafkaJarsCached: true });
    expect(ids(needs)).toEqual(["postgres", "redis", "java"]);
  });

  it("npm test needs no load generator", () => {
    const needs = needsFor("test", { privateServices: ALL, kafkaJarsCached: false });
    expect(ids(needs)).not.toContain("wrk?");
    expect(ids(needs)).not.toContain("wrk");
  });

  it("CI needs everything, whatever is configured: it starts every service itself", () => {
    const needs = needsFor("ci", { privateServices: [], kafkaJarsCached: false });
    expect(ids(needs)).toEqual(PREREQUISITES.map((p) => p.id));
  });
});

describe(".ci/run", () => {
  // One list in one place: CI provisions through the same module as npm start and npm test.
  const script = readFileSync(join(repoRoot, ".ci", "run"), "utf8");

  it("provisions through local/src/provision-cli.ts after npm ci", () => {
    const ci = script.indexOf("npm ci");
    const provision = script.indexOf("local/src/provision-cli.ts --for ci");
    expect(ci).toBeGreaterThan(-1);
    expect(provision).toBeGreaterThan(ci);
  });

  it("keeps no package list of its own", () => {
    const commands = script
      .split("\n")
      .filter((line) => !line.trimStart().startsWith("#"))
      .join("\n");
    expect(commands).not.toMatch(/apt-get|redis-server|default-jdk|systemctl/);
  });
});
