import { Kafka, type KafkaConfig, logLevel } from "kafkajs";
import { custom, type Env, list, optionalStr, type Reader, str } from "./config";
import { clampKafkajsTimers } from "./kafkajs-timers";

/**
 * How a deployable reaches Kafka: a broker list (local, compose, or configured MSK),
 * or an MSK cluster ARN resolved once per process with GetBootstrapBrokers.
 * `aws-iam` is SASL OAUTHBEARER signed by the AWS MSK IAM signer, over TLS.
 */
export interface KafkaConnection {
  brokers: readonly string[] | null;
  mskClusterArn: string | undefined;
  auth: "none" | "aws-iam";
  region: string | undefined;
}

export const kafkaConnectionVars = {
  kafka: custom<KafkaConnection>("KAFKA_BROKERS", (env: Env) => {
    const arn = optionalStr("MSK_CLUSTER_ARN").read(env);
    const hasBrokers = (env.KAFKA_BROKERS ?? "").trim() !== "";
    const brokers =
      hasBrokers || arn === undefined ? list("KAFKA_BROKERS", ["127.0.0.1:59092"]).read(env) : null;
    const auth = str("KAFKA_AUTH", "none").read(env);
    if (auth !== "none" && auth !== "aws-iam")
      throw new Error(`KAFKA_AUTH must be none or aws-iam (got "${auth}")`);
    const region = optionalStr("AWS_REGION").read(env);
    if (auth === "aws-iam" && region === undefined)
      throw new Error("KAFKA_AUTH=aws-iam needs AWS_REGION");
    return { brokers, mskClusterArn: arn, auth, region };
  }),
} satisfies Record<string, Reader<unknown>>;

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

/** A kafkajs client for the connection; `overrides` tune timeouts and retries per deployable. */
export async function createKafka(
  conn: KafkaConnection,
  clientId: string,
  overrides: Partial<KafkaConfig> = {},
): Promise<Kafka> {
  clampKafkajsTimers();
  const brokers = await resolveBrokers(conn);
  const base: KafkaConfig = { clientId, brokers, logLevel: logLevel.WARN, ...overrides };
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
