/**
 * The one list of what this repository needs from the operating system: which
 * binary, which Debian package provides it, and who needs it. `npm start`, the test
 * harness and `.ci/run` all provision from here (local/src/provision.ts).
 */
import { vars } from "@million-rps/shared/config";

/** Who needs a prerequisite: `npm start`, `npm test`, the benchmarks, or CI (`.ci/run`, which runs all of them). */
export type Purpose = "start" | "test" | "bench" | "ci";
export const PURPOSES: readonly Purpose[] = ["start", "test", "bench", "ci"];

export type ServiceName = "postgres" | "redis" | "kafka";

/** How to tell that a prerequisite is present. */
export type Detection =
  | { kind: "binary"; name: string }
  /** initdb and pg_ctl, which Debian keeps outside PATH in /usr/lib/postgresql/<version>/bin. */
  | { kind: "postgres-server" }
  /** python3 with the venv and ensurepip modules (Debian splits them into python3-venv). */
  | { kind: "python-venv" };

export interface Prerequisite {
  readonly id: string;
  /** What it is, for people: "PostgreSQL server (initdb, pg_ctl)". */
  readonly what: string;
  readonly detect: Detection;
  readonly debianPackage: string;
  /** Why this repository needs it: a noun phrase ("python3-venv for <why>"). */
  readonly why: string;
  /** Who cannot work without it. */
  readonly requiredFor: readonly Purpose[];
  /** Who installs it when it can, but carries on without it (the benchmark npm start suggests). */
  readonly suggestedFor: readonly Purpose[];
  /** Needed only for a private instance of this service: not when its configured endpoint answers. */
  readonly service?: ServiceName;
  /** Needed only until the Kafka jars are cached under .data/kafka-jars. */
  readonly onlyToFetchKafkaJars?: boolean;
  /** The system service the Debian package starts by itself; the harness runs private ones instead. */
  readonly packagedService?: string;
}

export const PREREQUISITES: readonly Prerequisite[] = [
  {
    id: "postgres",
    what: "PostgreSQL server (initdb, pg_ctl)",
    detect: { kind: "postgres-server" },
    debianPackage: "postgresql",
    why: "the private Postgres of npm start and the tests",
    requiredFor: ["start", "test", "bench", "ci"],
    suggestedFor: [],
    service: "postgres",
    packagedService: "postgresql",
  },
  {
    id: "redis",
    what: "redis-server",
    detect: { kind: "binary", name: "redis-server" },
    debianPackage: "redis-server",
    why: "the private Redis of npm start and the tests",
    requiredFor: ["start", "test", "bench", "ci"],
    suggestedFor: [],
    service: "redis",
    packagedService: "redis-server",
  },
  {
    id: "java",
    what: "Java 17+ (java)",
    detect: { kind: "binary", name: "java" },
    debianPackage: "default-jdk-headless",
    why: "the real Kafka broker (Apache Kafka 3.9, run from Maven Central jars)",
    requiredFor: ["start", "test", "bench", "ci"],
    suggestedFor: [],
    service: "kafka",
  },
  {
    id: "maven",
    what: "Maven (mvn)",
    detect: { kind: "binary", name: "mvn" },
    debianPackage: "maven",
    why: "fetching the Kafka jars from Maven Central once (~50 MB, cached in .data/kafka-jars)",
    requiredFor: ["start", "test", "bench", "ci"],
    suggestedFor: [],
    service: "kafka",
    onlyToFetchKafkaJars: true,
  },
  {
    id: "wrk",
    what: "wrk",
    detect: { kind: "binary", name: "wrk" },
    debianPackage: "wrk",
    why: "the load generator of scripts/benchmark.sh (which npm start suggests) and npm run bench:read",
    requiredFor: ["bench", "ci"],
    suggestedFor: ["start"],
  },
  {
    id: "curl",
    what: "curl",
    detect: { kind: "binary", name: "curl" },
    debianPackage: "curl",
    why: "the requests npm start prints to try the API, and the cache warm-up of scripts/benchmark.sh",
    requiredFor: ["bench", "ci"],
    suggestedFor: ["start"],
  },
  {
    id: "python3-venv",
    what: "Python 3 with venv",
    detect: { kind: "python-venv" },
    debianPackage: "python3-venv",
    why: "the venvs under .data/ that CI installs cfn-lint and schemathesis into, from PyPI",
    requiredFor: ["ci"],
    suggestedFor: [],
  },
];

/** A prerequisite one command needs; `required: false` means it carries on without it. */
export interface Need {
  readonly prerequisite: Prerequisite;
  readonly required: boolean;
}

/**
 * What `purpose` needs right now. A service that will not run privately (its
 * configured endpoint answers) needs nothing; Maven is needed only while the Kafka
 * jars are not cached. CI starts every service itself, so it needs all of them.
 */
export function needsFor(
  purpose: Purpose,
  context: { privateServices: readonly ServiceName[]; kafkaJarsCached: boolean },
  list: readonly Prerequisite[] = PREREQUISITES,
): Need[] {
  const needs: Need[] = [];
  for (const p of list) {
    const required = p.requiredFor.includes(purpose);
    if (!required && !p.suggestedFor.includes(purpose)) continue;
    if (purpose !== "ci" && p.service !== undefined && !context.privateServices.includes(p.service))
      continue;
    if (p.onlyToFetchKafkaJars && context.kafkaJarsCached) continue;
    needs.push({ prerequisite: p, required });
  }
  return needs;
}

/** The variable that points the harness at a running service instead of a private one. */
export const ENDPOINT_VARIABLE: Record<ServiceName, string> = {
  postgres: vars.databaseUrl.variable,
  redis: vars.redisUrl.variable,
  kafka: vars.kafkaBrokers.variable,
};
