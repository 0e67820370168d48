import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { roleStatements, scramVerifier } from "../migrate/role-grants";

const plan = {
  database: "million_rps",
  owner: "million_rps",
  reader: { name: "million_rps_reader", password: "reader-password-not-real" },
  app: { name: "million_rps_app", password: "app-password-not-real" },
};

describe("database roles (run by the migrate task)", () => {
  const sql = roleStatements(plan);

  it("lets the reader SELECT only, in read-only transactions", () => {
    const reader = sql.filter((s) => s.includes("million_rps_reader"));
    expect(reader).toContain("GRANT SELECT ON ALL TABLES IN SCHEMA public TO million_rps_reader");
    expect(reader).toContain(
      "ALTER ROLE million_rps_reader SET default_transaction_read_only = on",
    );
    for (const s of reader) expect(s).not.toMatch(/INSERT|UPDATE|DELETE|TEMPORARY|CREATE ON/);
  });

  it("lets the application role write rows and use temporary tables, never DDL", () => {
    expect(sql).toContain(
      "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO million_rps_app",
    );
    expect(sql).toContain("GRANT TEMPORARY ON DATABASE million_rps TO million_rps_app");
    expect(sql).toContain("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    expect(sql.join("\n")).not.toMatch(/GRANT (ALL|CREATE)[^\n]*million_rps_app/);
  });

  it("keeps the grants for tables later migrations create, and keeps both off schema_migrations", () => {
    expect(sql).toContain(
      "ALTER DEFAULT PRIVILEGES FOR ROLE million_rps IN SCHEMA public GRANT SELECT ON TABLES TO million_rps_reader",
    );
    expect(sql).toContain(
      "REVOKE ALL ON TABLE schema_migrations FROM million_rps_reader, million_rps_app",
    );
  });

  it("creates each role once and sets a SCRAM verifier, never the password itself", () => {
    const joined = sql.join("\n");
    expect(joined).not.toContain("reader-password-not-real");
    expect(joined).not.toContain("app-password-not-real");
    expect(sql.filter((s) => s.startsWith("DO $$"))).toHaveLength(2);
    expect(sql.filter((s) => /PASSWORD 'SCRAM-SHA-256\$4096:/.test(s))).toHaveLength(2);
  });

  it("refuses identifiers it would have to quote", () => {
    expect(() => roleStatements({ ...plan, reader: { name: 'x"; DROP', password: "p" } })).toThrow(
      /identifier/,
    );
  });
});

describe("scramVerifier", () => {
  it("is RFC 5802's StoredKey and ServerKey for the salt and iteration count", () => {
    const salt = Buffer.from("0123456789abcdef");
    const v = scramVerifier("pencil", salt, 4096);
    const salted = pbkdf2Sync("pencil", salt, 4096, 32, "sha256");
    const stored = createHash("sha256")
      .update(createHmac("sha256", salted).update("Client Key").digest())
      .digest("base64");
    const server = createHmac("sha256", salted).update("Server Key").digest("base64");
    expect(v).toBe(`SCRAM-SHA-256$4096:${salt.toString("base64")}$${stored}:${server}`);
  });
});
