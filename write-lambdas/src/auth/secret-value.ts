import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

/**
 * GetSecretValue, in a module of its own that key-source.ts imports lazily: the
 * bundle keeps this client and command only (a dynamic import of the SDK package
 * kept its whole namespace), and nothing is evaluated before the first fetch.
 */
export async function getSecretString(
  secretArn: string,
  region: string | undefined,
  timeoutMs: number,
): Promise<string | undefined> {
  const client = new SecretsManagerClient({ ...(region && { region }), maxAttempts: 2 });
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }), {
    abortSignal: AbortSignal.timeout(timeoutMs),
  });
  return out.SecretString;
}
