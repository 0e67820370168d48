import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { dataDir as dataRoot, repoRoot } from "./paths";
import {
  canConnect,
  GiveUp,
  isAlive,
  MissingBinaryError,
  readPid,
  run,
  terminate,
  waitUntil,
  which,
} from "./proc";

export const KAFKA_VERSION = "3.9.1";

/** A real single-node Apache Kafka broker in KRaft mode, run from Maven Central jars. */
export interface KafkaInstance {
  readonly name: "kafka";
  readonly brokers: string[];
  readonly port: number;
  start(): Promise<void>;
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
}

/**
 * Resolves the broker's jars once into `.data/kafka-jars/<version>` (Maven also
 * caches them in ~/.m2), so later starts take seconds.
 */
export async function ensureKafkaJars(
  onProgress: (msg: string) => void = () => {},
): Promise<string> {
  const dir = join(dataRoot("kafka-jars"), KAFKA_VERSION);
  const marker = join(dir, ".complete");
  if (existsSync(marker)) return dir;
  const mvn = which("mvn");
  if (mvn === null) throw new MissingBinaryError("mvn", "maven");
  onProgress(`resolving Apache Kafka ${KAFKA_VERSION} jars from Maven Central (first run only)`);
  mkdirSync(dir, { recursive: true });
  await run(mvn, [
    "-q",
    "-B",
    "-f",
    join(repoRoot, "local", "kafka", "pom.xml"),
    "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
    "-DincludeScope=runtime",
    `-DoutputDirectory=${dir}`,
  ]);
  if (!readdirSync(dir).some((f) => f.startsWith(`kafka_2.13-${KAFKA_VERSION}`))) {
    throw new Error(`Maven finished but no kafka_2.13-${KAFKA_VERSION} jar is in ${dir}`);
  }
  writeFileSync(marker, new Date().toISOString());
  return dir;
}

function serverProperties(dataDir: string, port: number, controllerPort: number): string {
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    "controller.listener.names=CONTROLLER",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "inter.broker.listener.name=PLAINTEXT",
    `log.dirs=${join(dataDir, "logs")}`,
    "num.partitions=1",
    "auto.create.topics.enable=false",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    "log.flush.interval.messages=9223372036854775807",
    "",
  ].join("\n");
}

const LOG4J = [
  "log4j.rootLogger=WARN, stdout",
  "log4j.logger.kafka.server.KafkaRaftServer=INFO",
  "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
  "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
  "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
  "",
].join("\n");

export function kafkaInstance(
  dataDir: string,
  port: number,
  controllerPort: number,
): KafkaInstance {
  const brokers = [`127.0.0.1:${port}`];
  const pidFile = join(dataDir, "kafka.pid");
  const props = join(dataDir, "server.properties");

  async function ready(): Promise<boolean> {
    if (!(await canConnect("127.0.0.1", port))) return false;
    const admin = new Kafka({
      brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 1000,
    }).admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0 && cluster.controller !== null;
    } finally {
      await admin.disconnect();
    }
  }

  async function start(): Promise<void> {
    const stale = readPid(pidFile);
    if (stale !== null && isAlive(stale) && (await ready().catch(() => false))) return;
    const java = which("java");
    if (java === null) throw new MissingBinaryError("java", "default-jre-headless");
    const jars = await ensureKafkaJars();
    writeFileSync(props, serverProperties(dataDir, port, controllerPort));
    writeFileSync(join(dataDir, "log4j.properties"), LOG4J);
    const classpath = `${jars}/*`;
    if (!existsSync(join(dataDir, "logs", "meta.properties"))) {
      const clusterId = randomBytes(16).toString("base64url");
      await run(java, [
        "-cp",
        classpath,
        "kafka.tools.StorageTool",
        "format",
        "-t",
        clusterId,
        "-c",
        props,
      ]);
    }
    const log = openSync(join(dataDir, "kafka.log"), "a");
    const child = spawn(
      java,
      [
        "-Xms512m",
        "-Xmx512m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Djava.awt.headless=true",
        `-Dlog4j.configuration=file:${join(dataDir, "log4j.properties")}`,
        "-cp",
        classpath,
        "kafka.Kafka",
        props,
      ],
      { stdio: ["ignore", log, log], detached: true },
    );
    child.unref();
    if (child.pid === undefined) throw new Error("the Kafka JVM did not start");
    writeFileSync(pidFile, String(child.pid));
    const pid = child.pid;
    await waitUntil(
      `Kafka on 127.0.0.1:${port} (log: ${join(dataDir, "kafka.log")})`,
      async () => {
        if (!isAlive(pid)) throw new GiveUp(`the broker exited; see ${join(dataDir, "kafka.log")}`);
        return ready();
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }

  async function stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const pid = readPid(pidFile);
    if (pid === null) return;
    if (signal === "SIGKILL" && isAlive(pid)) process.kill(pid, "SIGKILL");
    await terminate(pid, 20_000);
  }

  return { name: "kafka", brokers, port, start, stop };
}
