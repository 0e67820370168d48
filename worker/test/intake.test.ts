import { encodeCommand } from "@million-rps/shared";
import { describe, expect, it } from "vitest";
import { generateWorkload } from "../bench/workload";
import { deadLetterMessage } from "../src/dead-letters";
import { slices, takeIn } from "../src/intake";
import { RecentCommands } from "../src/recent-commands";

const [good] = generateWorkload({ count: 1, seed: 3 });
if (good === undefined) throw new Error("workload produced nothing");
const record = (offset: number, value: string | Buffer | null) => ({
  offset: String(offset),
  key: Buffer.from(good.todo_id),
  value: typeof value === "string" ? Buffer.from(value) : value,
});

describe("takeIn", () => {
  it("keeps valid commands in order and names why each poison record can never apply", () => {
    const intake = takeIn([
      record(0, encodeCommand(good)),
      record(1, "not json {"),
      record(2, JSON.stringify({ ...good, v: 2 })),
      record(3, JSON.stringify({ ...good, type: "archive" })),
      record(4, JSON.stringify({ ...good, data: { title: "" } })),
      record(5, null),
      record(6, encodeCommand({ ...good, command_id: "20000000-0000-4000-8000-000000000000" })),
    ]);
    expect(intake.commands.map((c) => c.record.offset)).toEqual(["0", "6"]);
    expect(intake.commands[0]?.command).toEqual(good);
    expect(intake.poison.map((p) => [p.record.offset, p.reason])).toEqual([
      ["1", "not JSON"],
      ["2", "unsupported version 2"],
      ["3", 'unknown type "archive"'],
      ["4", "create data: title must not be empty"],
      ["5", "empty message"],
    ]);
  });
});

describe("deadLetterMessage", () => {
  it("keeps the original key and bytes and says why and where from in headers", () => {
    const bytes = Buffer.from([0xff, 0x00, 0x7b]);
    const m = deadLetterMessage(
      { record: record(41, bytes), reason: "not JSON" },
      { topic: "todo-commands", partition: 2 },
    );
    expect(m.value).toBe(bytes);
    expect(m.key?.toString()).toBe(good.todo_id);
    expect(m.headers).toMatchObject({
      "dlq-reason": "not JSON",
      "dlq-source-topic": "todo-commands",
      "dlq-source-partition": "2",
      "dlq-source-offset": "41",
    });
  });
});

describe("slices", () => {
  it("cuts a batch into consecutive transactions of at most n records", () => {
    expect([...slices([1, 2, 3, 4, 5], 2)]).toEqual([[1, 2], [3, 4], [5]]);
    expect([...slices([], 2)]).toEqual([]);
  });
});

describe("RecentCommands", () => {
  it("remembers the last n ids and forgets the oldest first", () => {
    const recent = new RecentCommands(3);
    recent.remember(["a", "b", "c", "a"]);
    expect(["a", "b", "c"].map((id) => recent.has(id))).toEqual([true, true, true]);
    recent.remember(["d"]);
    expect(["a", "b", "c", "d"].map((id) => recent.has(id))).toEqual([false, true, true, true]);
    const none = new RecentCommands(0);
    none.remember(["a"]);
    expect(none.has("a")).toBe(false);
  });
});
