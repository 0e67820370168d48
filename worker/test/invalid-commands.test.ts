import { encodeCommand } from "@million-rps/shared";
import { describe, expect, it } from "vitest";
import { generateWorkload } from "../bench/workload";
import { invalidCommands, readableCommandId } from "../src/invalid-commands";

const [good, other] = generateWorkload({ count: 2, seed: 5 });
if (good === undefined || other === undefined) throw new Error("workload produced too little");
const record = (offset: number, value: string | Buffer | null) => ({
  offset: String(offset),
  key: null,
  value: typeof value === "string" ? Buffer.from(value) : value,
});

describe("readableCommandId", () => {
  it("reads a UUID command_id from a JSON object (for the log line) and nothing else", () => {
    const id = good.command_id;
    for (const value of [
      JSON.stringify({ v: 1, command_id: id, type: 7 }),
      JSON.stringify({ v: 9, command_id: id }),
    ]) {
      expect(readableCommandId(Buffer.from(value)), value).toBe(id);
    }
    for (const value of [
      null,
      "not json {",
      `{"command_id":"${id}"`,
      JSON.stringify([{ command_id: id }]),
      JSON.stringify(id),
      "null",
      JSON.stringify({ command_id: "c-1" }),
      JSON.stringify({ command_id: id.replace(/-/g, "") }),
      JSON.stringify({ command_id: 12 }),
      JSON.stringify({ id }),
    ]) {
      expect(
        readableCommandId(value === null ? null : Buffer.from(value)),
        String(value),
      ).toBeNull();
    }
  });
});

describe("invalidCommands", () => {
  it("lists the refused commands whole, in offset order", () => {
    const rows = invalidCommands([
      { record: record(9, encodeCommand(other)), command: other },
      { record: record(10, encodeCommand(good)), command: good },
      { record: record(5, encodeCommand(good)), command: good },
    ]);
    const whole = (c: typeof good) => ({
      command_id: c.command_id,
      todo_id: c.todo_id,
      actor: c.actor,
      type: c.type,
      issued_at: c.issued_at,
    });
    expect(rows).toEqual([whole(good), whole(other), whole(good)]);
  });
});
