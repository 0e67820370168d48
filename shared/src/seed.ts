import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Pool } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { deriveId } from "./ids";

/** Seeded rows start here and are 1 ms apart: distinct timestamps, stable order, same on every run. */
export const SEED_EPOCH_MS = Date.UTC(2026, 0, 1);
export const SEED_USERS = 50;

export interface SeedResult {
  requested: number;
  inserted: number;
}

/** Row `i` of the seed: the same id and content on every run, which makes re-running a no-op. */
function seedRow(i: number): string {
  const id = deriveId("seed", String(i));
  const created = new Date(SEED_EPOCH_MS + i).toISOString();
  const user = `seed-user-${i % SEED_USERS}`;
  const completed = i % 3 === 0 ? "t" : "f";
  return `${id}\tSeed todo #${i}\t\t${completed}\t${user}\t${created}\t${created}\t1\n`;
}

function* seedLines(count: number, onRow: (done: number) => void): Generator<string> {
  const chunk = 1000;
  for (let start = 1; start <= count; start += chunk) {
    let text = "";
    const end = Math.min(count, start + chunk - 1);
    for (let i = start; i <= end; i++) text += seedRow(i);
    yield text;
    onRow(end);
  }
}

/**
 * Loads `count` deterministic todos with COPY into a temporary table, then inserts
 * the ones that are missing (ON CONFLICT DO NOTHING), so re-running never duplicates.
 */
export async function seedTodos(
  pool: Pool,
  count: number,
  onProgress: (done: number) => void = () => {},
): Promise<SeedResult> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(
      "CREATE TEMP TABLE seed_todos (LIKE todos INCLUDING DEFAULTS) ON COMMIT DROP",
    );
    const copy = client.query(
      copyFrom(
        "COPY seed_todos (id, title, description, completed, user_id, created_at, updated_at, version) FROM STDIN",
      ),
    );
    await pipeline(Readable.from(seedLines(count, onProgress)), copy);
    const { rowCount } = await client.query(
      "INSERT INTO todos SELECT * FROM seed_todos ON CONFLICT (id) DO NOTHING",
    );
    await client.query("COMMIT");
    return { requested: count, inserted: rowCount ?? 0 };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
