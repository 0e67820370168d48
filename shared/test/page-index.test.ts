import { describe, expect, it } from "vitest";
import { cacheKeys } from "../src/cache-keys";
import { encodeCursor } from "../src/cursor";
import { pageIndexEntry, pagesHolding } from "../src/page-index";

const keys = cacheKeys("t");
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const cursorAt = (micros: number, n = 0) =>
  encodeCursor({ createdAtMicros: BigInt(micros), id: id(n) });
const at = (micros: number, n = 0) => ({ micros, id: id(n) });

describe("page index", () => {
  it("indexes a cursor page by its low end, a page that is not full at -inf, a first page not at all", () => {
    const c = cursorAt(5_000);
    expect(pageIndexEntry(10, c, { low: at(4_000), high: at(5_000) })).toEqual({
      member: `10 ${c}`,
      score: "4000",
    });
    expect(pageIndexEntry(10, c, { low: null, high: at(5_000) })?.score).toBe("-inf");
    expect(pageIndexEntry(10, null, { low: at(1), high: null })).toBeUndefined();
  });

  it("keeps the candidates whose cursor is above the position, each once", () => {
    const above = cursorAt(5_000);
    const below = cursorAt(3_000);
    const sameMicros = cursorAt(4_000, 9);
    const found = [[`10 ${above}`, `10 ${below}`, `20 ${sameMicros}`], [`10 ${above}`]];
    const { pages, junk } = pagesHolding(keys, [at(4_000, 1), at(4_500)], found);
    // 4000/id 1 sorts below the cursor 4000/id 9 (ties break on the id, as Postgres does).
    expect([...pages.keys()]).toEqual([`10 ${above}`, `20 ${sameMicros}`]);
    expect(pages.get(`10 ${above}`)).toMatchObject({
      limit: 10,
      cursor: above,
      key: keys.page(10, above),
    });
    expect(junk).toEqual([]);
  });

  it("calls what it cannot read junk, never a page", () => {
    const { pages, junk } = pagesHolding(
      keys,
      [at(1)],
      [["nospace", "0 AAAA", `1001 ${cursorAt(5)}`, "10 not-a-cursor", ` ${cursorAt(5)}`]],
    );
    expect(pages.size).toBe(0);
    expect(junk).toHaveLength(5);
  });
});
