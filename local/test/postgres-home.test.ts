import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  choosePostgresHome,
  RELOCATED_BASE,
  releaseAbandonedHomes,
  relocatedHomeFor,
} from "../src/postgres-home";

describe("choosePostgresHome", () => {
  it("keeps the cluster in place when Postgres runs as the invoking user", () => {
    expect(
      choosePostgresHome({
        dataDir: "/root/clone/.data/dev/postgres",
        runsAsPostgresUser: false,
        postgresUserCanEnter: false,
      }),
    ).toEqual({ relocated: false, dir: "/root/clone/.data/dev/postgres" });
  });

  it("keeps it in place when the postgres user can enter the data directory", () => {
    expect(
      choosePostgresHome({
        dataDir: "/work/main/.data/dev/postgres",
        runsAsPostgresUser: true,
        postgresUserCanEnter: true,
      }),
    ).toMatchObject({ relocated: false });
  });

  // Regression for issue 12: as root in a clone under /root (mode 0700), initdb failed
  // with "could not change directory to ...: Permission denied".
  it("moves it to a private directory under /var/tmp when the postgres user cannot enter", () => {
    const choice = choosePostgresHome({
      dataDir: "/root/clone/.data/dev/postgres",
      runsAsPostgresUser: true,
      postgresUserCanEnter: false,
    });
    expect(choice).toMatchObject({
      relocated: true,
      dir: relocatedHomeFor("/root/clone/.data/dev/postgres"),
    });
    expect(choice.dir.startsWith(`${RELOCATED_BASE}/million-rps-pg-`)).toBe(true);
  });

  it("names that directory after the data directory: stable for one, distinct for two", () => {
    const a = relocatedHomeFor("/root/a/.data/dev/postgres");
    expect(relocatedHomeFor("/root/a/.data/dev/postgres")).toBe(a);
    expect(relocatedHomeFor("/root/a/.data/test-12/postgres")).not.toBe(a);
    expect(relocatedHomeFor("/root/b/.data/dev/postgres")).not.toBe(a);
  });
});

describe("releaseAbandonedHomes", () => {
  const base = mkdtempSync(join(tmpdir(), "mrps-homes-"));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  /** A relocated home serving `origin`, linked from it when `linked`. */
  function home(name: string, origin: string, linked: boolean): string {
    const dir = join(base, `million-rps-pg-${name}`);
    mkdirSync(join(dir, "pgdata"), { recursive: true });
    writeFileSync(join(dir, "origin"), `${origin}\n`);
    if (linked) {
      mkdirSync(origin, { recursive: true });
      symlinkSync(join(dir, "pgdata"), join(origin, "pgdata"));
    }
    return dir;
  }

  it("removes clusters whose data directory is gone or no longer links to them, keeps the rest", () => {
    const kept = home("kept", join(base, "clone", ".data", "dev", "postgres"), true);
    const removedData = home(
      "gone",
      join(base, "deleted-clone", ".data", "dev", "postgres"),
      false,
    );
    const deadTest = home("test", join(base, "clone", ".data", "test-999999999", "postgres"), true);
    mkdirSync(join(base, "million-rps-pg-half-made")); // no origin yet: being made right now
    const released = releaseAbandonedHomes(base);
    expect(released.sort()).toEqual([deadTest, removedData].sort());
    expect(releaseAbandonedHomes(base)).toEqual([]);
    expect(existsSync(kept)).toBe(true);
    expect(existsSync(join(base, "million-rps-pg-half-made"))).toBe(true);
  });
});
