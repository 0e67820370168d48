import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { postgresInstance } from "../src/postgres";
import { freePort } from "../src/proc";
import { startServices } from "../src/services";

// Regression for issue 12: as root, a clone the postgres user cannot enter (anything
// under /root, any `mktemp -d` folder: mode 0700) failed at initdb with "could not
// change directory to ...: Permission denied". The data root here is such a folder.
const isRoot = process.getuid?.() === 0;
const root = mkdtempSync(join(tmpdir(), "mrps-private-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("the harness in a data directory only its owner may enter (mode 0700)", () => {
  it("the data root really is private", () => {
    expect(statSync(root).mode & 0o777).toBe(0o700);
  });

  it("starts Postgres and Redis there, with the log where it says, and removes the data with the test profile", async () => {
    const services = await startServices({
      profile: "test",
      only: ["postgres", "redis"],
      dataRoot: root,
    });
    const postgres = services.instances.postgres;
    const home = postgres?.home();
    try {
      expect(services.reports.map((r) => [r.name, r.mode])).toEqual(
        expect.arrayContaining([
          ["postgres", "started"],
          ["redis", "started"],
        ]),
      );
      expect(await query(services.endpoints.databaseUrl, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
      if (home === undefined || postgres === undefined) throw new Error("no private Postgres");
      // As root the cluster runs as `postgres`, who cannot enter `root`: it lives in a
      // private directory of that user instead. Otherwise it runs as us, in place.
      expect(home.relocated).toBe(isRoot);
      if (isRoot) {
        expect(home.dir.startsWith(root)).toBe(false);
        const st = statSync(home.dir);
        expect(st.mode & 0o777).toBe(0o700);
        expect(st.uid).not.toBe(0);
        expect(readlinkSync(join(postgres.dataDir, "pgdata"))).toBe(home.pgdata);
      } else {
        expect(home.dir).toBe(postgres.dataDir);
      }
      // The log is readable where the harness says it is, and through the data directory.
      expect(readFileSync(home.logFile, "utf8")).toContain("ready to accept connections");
      expect(readFileSync(join(postgres.dataDir, "postgres.log"), "utf8")).toContain(
        "ready to accept connections",
      );
    } finally {
      await services.stop();
    }
    expect(existsSync(postgres.dataDir)).toBe(false);
    expect(existsSync(home.dir)).toBe(false);
  });

  it("a cluster whose data directory was removed is not revived: the next start begins empty", async () => {
    const dataDir = join(root, "dev", "postgres");
    const port = await freePort();
    const first = postgresInstance(dataDir, port);
    await first.start();
    await query(first.url, "CREATE TABLE marker (x int)");
    await first.stop();
    const firstHome = first.home()?.dir;
    // What the README says to do to start over: remove the stack's data directory.
    rmSync(join(root, "dev"), { recursive: true, force: true });

    const second = postgresInstance(dataDir, port);
    try {
      await second.start();
      expect(second.home()?.dir).toBe(firstHome); // same place...
      const tables = await query(second.url, "SELECT 1 FROM pg_tables WHERE tablename = 'marker'");
      expect(tables).toEqual([]); // ...but a new cluster
    } finally {
      await second.stop();
      second.removeData();
    }
    expect(existsSync(firstHome ?? "")).toBe(false);
  });
});
