/**
 * The Postgres roles the services log in as, and what each may do. Pure: the
 * migrate task (db-roles.ts) runs these statements as the master user after the
 * migrations, in one transaction; the tests read them.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";

export interface RolePlan {
  database: string;
  owner: string;
  reader: { name: string; password: string };
  app: { name: string; password: string };
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function ident(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a plain Postgres identifier: ${name}`);
  return name;
}

/**
 * A SCRAM-SHA-256 verifier (RFC 5802/7677, as libpq's PQencryptPasswordConn makes it):
 * the server stores only this, and a statement that sets it never carries the password,
 * even if logged (log_min_duration_statement).
 */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize("NFKC"), salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

function loginRole(name: string, password: string): string[] {
  const role = ident(name);
  return [
    `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role}; END IF; END $$`,
    `ALTER ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD '${scramVerifier(password)}'`,
  ];
}

/**
 * Reader: SELECT only, and read-only transactions by default (defence in depth for
 * the internet-facing fleet). App: reads and writes rows, may use temporary tables
 * (the seed's COPY), never DDL. Neither touches schema_migrations. Default
 * privileges carry the grants to tables a later migration creates.
 */
export function roleStatements(plan: RolePlan): string[] {
  const db = ident(plan.database);
  const owner = ident(plan.owner);
  const reader = ident(plan.reader.name);
  const app = ident(plan.app.name);
  return [
    ...loginRole(reader, plan.reader.password),
    ...loginRole(app, plan.app.password),
    `ALTER ROLE ${reader} SET default_transaction_read_only = on`,
    `REVOKE ALL ON DATABASE ${db} FROM PUBLIC`,
    `GRANT CONNECT ON DATABASE ${db} TO ${reader}, ${app}`,
    `GRANT TEMPORARY ON DATABASE ${db} TO ${app}`,
    `REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
    `GRANT USAGE ON SCHEMA public TO ${reader}, ${app}`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${reader}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${app}`,
    `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${app}`,
    `REVOKE ALL ON TABLE schema_migrations FROM ${reader}, ${app}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA public GRANT SELECT ON TABLES TO ${reader}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${app}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${app}`,
  ];
}
