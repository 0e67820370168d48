import { Redis } from "ioredis";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { freshDatabase, freshKeyPrefix, testServices } from "../src/testing";

describe("the harness's real Postgres and Redis", () => {
  it("writes and reads rows in a migrated database of this file's own", async () => {
    const pool = new pg.Pool({ connectionString: await freshDatabase(), max: 1 });
    try {
      const { rows: migrations } = await pool.query(
        "SELECT version FROM schema_migrations ORDER BY version",
      );
      expect(migrations.map((r) => r.version)).toContain("001_init.sql");
      await pool.query(
        "INSERT INTO todos (id, title, user_id) VALUES (gen_random_uuid(), 'hello', 'u')",
      );
      const { rows } = await pool.query("SELECT title, description, completed, version FROM todos");
      expect(rows).toEqual([{ title: "hello", description: "", completed: false, version: "1" }]);
      await expect(
        pool.query("INSERT INTO todos (id, title, user_id) VALUES (gen_random_uuid(), '', 'u')"),
      ).rejects.toThrow(/check constraint/);
    } finally {
      await pool.end();
    }
  });

  it("sets and reads keys in real Redis", async () => {
    const redis = new Redis(testServices().redisUrl);
    try {
      const key = `${freshKeyPrefix()}:k`;
      await redis.set(key, Buffer.from([0, 1, 2, 255]), "EX", 60);
      expect(await redis.getBuffer(key)).toEqual(Buffer.from([0, 1, 2, 255]));
      expect(await redis.ttl(key)).toBeGreaterThan(50);
    } finally {
      redis.disconnect();
    }
  });
});
