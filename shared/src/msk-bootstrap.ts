import { GetBootstrapBrokersCommand, KafkaClient } from "@aws-sdk/client-kafka";

/**
 * GetBootstrapBrokers, in a module of its own that kafka.ts imports lazily: a
 * bundler keeps only this client and command from the SDK's static imports (a
 * dynamic import of `@aws-sdk/client-kafka` itself kept every command's schema,
 * ~90 KiB of the write Lambdas' bundle), and nothing is evaluated until needed.
 */
export async function mskBootstrapBrokers(
  clusterArn: string,
  region: string | undefined,
  iam: boolean,
): Promise<string | undefined> {
  const client = new KafkaClient(region === undefined ? {} : { region });
  const out = await client.send(new GetBootstrapBrokersCommand({ ClusterArn: clusterArn }));
  return iam
    ? out.BootstrapBrokerStringSaslIam
    : (out.BootstrapBrokerStringTls ?? out.BootstrapBrokerString);
}
