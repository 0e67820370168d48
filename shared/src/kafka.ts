import { Kafka, type KafkaConfig, logLevel } from "kafkajs";
import type { KafkaConnection } from "./config";
import { kafkajsLogCreator } from "./kafkajs-log";
import { patchKafkajsRequestQueue } from "./kafkajs-request-queue";
import type { Logger } from "./log";

export type { KafkaConnection } from "./config";
export { kafkajsLogCreator } from "./kafkajs-log";

/** Resolves the broker list: configured, or from MSK (the IAM listener when auth is aws-iam). */
export async function resolveBrokers(conn: KafkaConnection): Promise<string[]> {
  if (conn.brokers !== null) return [...conn.brokers];
  if (conn.mskClusterArn === undefined) throw new Error("set KAFKA_BROKERS or MSK_CLUSTER_ARN");
  const { mskBootstrapBrokers } = await import("./msk-bootstrap");
  const text = await mskBootstrapBrokers(conn.mskClusterArn, conn.region, conn.auth === "aws-iam");
  if (text === undefined || text === "")
    throw new Error(
      `MSK cluster ${conn.mskClusterArn} returned no bootstrap brokers for auth ${conn.auth}`,
    );
  return text.split(",");
}

/**
 * A kafkajs client for the connection, logging through `log` (kafkajs's own lines
 * become the deployable's JSON lines); `overrides` tune timeouts and retries per
 * deployable.
 */
export async function createKafka(
  conn: KafkaConnection,
  clientId: string,
  log: Logger,
  overrides: Partial<KafkaConfig> = {},
): Promise<Kafka> {
  patchKafkajsRequestQueue();
  const brokers = await resolveBrokers(conn);
  const base: KafkaConfig = {
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkajsLogCreator(log),
    ...overrides,
  };
  if (conn.auth === "none") return new Kafka(base);
  const region = conn.region ?? "";
  const { generateAuthToken } = await import("aws-msk-iam-sasl-signer-js");
  return new Kafka({
    ...base,
    ssl: true,
    sasl: {
      mechanism: "oauthbearer",
      oauthBearerProvider: async () => {
        const { token } = await generateAuthToken({ region });
        return { value: token };
      },
    },
  });
}
