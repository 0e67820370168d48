import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { isStopRequested, lastLines, MissingBinaryError, StartupError } from "./errors";
import { ownedEnv } from "./owned-processes";
import { dataDir as dataRoot, repoRoot } from "./paths";
import { canConnect, isAlive, run, waitUntil, which } from "./proc";
import { recordedProcess, stopRecordedProcess, writeProcessRecord } from "./process-record";
import { type StopOptions, throwIfStopping } from "./teardown";

export const KAFKA_VERSION = "3.9.1";

/** A real single-node Apache Kafka broker in KRaft mode, run from Maven Central jars. */
export interface KafkaInstance {
  readonly name: "kafka";
  readonly brokers: string[];
  readonly port: number;
  /** Starts the broker unless ours already runs; an aborted `signal` gives up between steps. */
  start(signal?: AbortSignal): Promise<void>;
  /** Stops it if it runs (SIGTERM; SIGKILL after 20 s, or at once with `hurry`). */
  stop(signal?: "SIGTERM" | "SIGKILL", options?: StopOptions): Promise<void>;
  /** The broker JVM's pid while it runs. */
  pid(): number | null;
}

function kafkaJarsDir(): string {
  return join(dataRoot("kafka-jars"), KAFKA_VERSION);
}

/** True once the broker's jars were resolved: then Maven is no longer needed. */
export function kafkaJarsCached(): boolean {
  return existsSync(join(kafkaJarsDir(), ".complete"));
}

/**
 * Resolves the broker's jars once into `.data/kafka-jars/<version>` (Maven also
 * caches them in ~/.m2), so later starts take seconds. An aborted `signal` stops Maven.
 */
export async function ensureKafkaJars(
  onProgress: (msg: string) => void = () => {},
  signal?: AbortSignal,
): Promise<string> {
  const dir = kafkaJarsDir();
  const marker = join(dir, ".complete");
  if (existsSync(marker)) return dir;
  const mvn = which("mvn");
  if (mvn === null) throw new MissingBinaryError("mvn", "maven");
  throwIfStopping(signal);
  onProgress(`resolving Apache Kafka ${KAFKA_VERSION} jars from Maven Central (first run only)`);
  mkdirSync(dir, { recursive: true });
  try {
    await run(
      mvn,
      [
        "-q",
        "-B",
        "-f",
        join(repoRoot, "local", "kafka", "pom.xml"),
        "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
        "-DincludeScope=runtime",
        `-DoutputDirectory=${dir}`,
      ],
      { env: { ...process.env, ...ownedEnv("maven", dir) }, ...(signal && { signal }) },
    );
  } catch (err) {
    if (isStopRequested(err)) throw err;
    const message = (err as Error).message;
    // Maven's first [ERROR] line is the cause; the ones after it are links to its wiki.
    const cause = /^\[ERROR\] (\S.*)$/m.exec(message)?.[1] ?? lastLines(message, 4);
    const next = /PKIX|certification path/.test(cause)
      ? "Java does not trust the certificate Maven Central's address answered with (a TLS-inspecting proxy?): add that CA to /usr/local/share/ca-certificates, run update-ca-certificates, then start again."
      : "Maven Central must be reachable (a proxy goes in ~/.m2/settings.xml); start again once it is.";
    throw new StartupError(
      `Maven could not resolve the Kafka ${KAFKA_VERSION} jars: ${cause}`,
      next,
      {
        cause: err,
      },
    );
  }
  if (!readdirSync(dir).some((f) => f.startsWith(`kafka_2.13-${KAFKA_VERSION}`))) {
    throw new Error(`Maven finished but no kafka_2.13-${KAFKA_VERSION} jar is in ${dir}`);
  }
  writeFileSync(marker, new Date().toISOString());
  return dir;
}

/**
 * A KRaft cluster id: 16 random bytes, base64url, as Kafka makes them, but never
 * starting with "-": StorageTool's parser takes "-t -abc" for two options and the
 * format fails ("argument --cluster-id/-t: expected one argument"), once in 64 starts.
 */
export function newClusterId(random: (n: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
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

/**
 * Why the broker died, from its log: the first exception of this start names the cause
 * ("Socket server failed to bind to 127.0.0.1:59092: Address already in use"); the
 * lines after it are stack frames.
 */
function brokerFailure(logFile: string, from: number): string {
  if (!existsSync(logFile)) return "(no log)";
  const lines = readFileSync(logFile).subarray(from).toString("utf8").split("\n");
  const cause = lines.find((l) => /^\S+(Exception|Error): /.test(l));
  return cause ?? lastLines(lines.join("\n"), 3);
}

export function kafkaInstance(
  dataDir: string,
  port: number,
  controllerPort: number,
  { onProgress = () => {} }: { onProgress?: (msg: string) => void } = {},
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

  const logFile = join(dataDir, "kafka.log");

  async function start(signal?: AbortSignal): Promise<void> {
    throwIfStopping(signal);
    if (recordedProcess(pidFile) !== null && (await ready().catch(() => false))) return;
    const java = which("java");
    if (java === null) throw new MissingBinaryError("java", "default-jdk-headless");
    const jars = await ensureKafkaJars(onProgress, signal);
    writeFileSync(props, serverProperties(dataDir, port, controllerPort));
    writeFileSync(join(dataDir, "log4j.properties"), LOG4J);
    const classpath = `${jars}/*`;
    if (!existsSync(join(dataDir, "logs", "meta.properties"))) {
      // Runs to the end even when a stop arrives (a few seconds): cut short, it could
      // leave a storage directory that looks formatted but is not.
      const clusterId = newClusterId();
      await run(
        java,
        ["-cp", classpath, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", props],
        { env: { ...process.env, ...ownedEnv("kafka", dataDir) } },
      );
    }
    throwIfStopping(signal);
    // The log is appended to across starts: only what this start writes explains its failure.
    const logStart = existsSync(logFile) ? statSync(logFile).size : 0;
    const log = openSync(logFile, "a");
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
      {
        stdio: ["ignore", log, log],
        // Its own process group: Ctrl-C in the terminal reaches `npm start`, which stops this in order.
        detached: true,
        env: { ...process.env, ...ownedEnv("kafka", dataDir) },
      },
    );
    child.unref();
    if (child.pid === undefined) throw new Error(`the Kafka JVM did not start; see ${logFile}`);
    const pid = child.pid;
    writeProcessRecord(pidFile, pid, { part: "kafka", command: `${java} kafka.Kafka`, port });
    await waitUntil(
      `Kafka on 127.0.0.1:${port} (log: ${logFile})`,
      async () => {
        if (!isAlive(pid)) {
          throw new StartupError(
            `the Kafka broker exited on start: ${brokerFailure(logFile, logStart)}`,
            `Its whole log is ${logFile}. If another program holds port ${port} or ${controllerPort}, point KAFKA_BROKERS at a free port.`,
          );
        }
        return ready();
      },
      { timeoutMs: 60_000, intervalMs: 250, signal },
    );
  }

  async function stop(
    signal: "SIGTERM" | "SIGKILL" = "SIGTERM",
    options: StopOptions = {},
  ): Promise<void> {
    const running = recordedProcess(pidFile);
    if (signal === "SIGKILL" && running !== null) process.kill(running.pid, "SIGKILL");
    await stopRecordedProcess(pidFile, 20_000, options);
  }

  const pid = () => recordedProcess(pidFile)?.pid ?? null;
  return { name: "kafka", brokers, port, start, stop, pid };
}
