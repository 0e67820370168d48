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
  it("reads a UUID command_id from a JSON object of this version and nothing else", () => {
    const id = good.command_id;
    expect(readableCommandId(Buffer.from(JSON.stringify({ v: 1, command_id: id, type: 7 })))).toBe(
      id,
    );
    for (const value of [
      // Another version may be a newer writer's: left unrecorded, to replay after an upgrade.
      JSON.stringify({ v: 9, command_id: id }),
      JSON.stringify({ command_id: id, type: 7 }),
      null,
      "not json {",
      `{"command_id":"${id}"`,
      JSON.stringify([{ command_id: id }]),
      JSON.stringify(id),
      "null",
      JSON.stringify({ v: 1, command_id: "c-1" }),
      JSON.stringify({ v: 1, command_id: id.replace(/-/g, "") }),
      JSON.stringify({ v: 1, command_id: 12 }),
      JSON.stringify({ v: 1, id }),
    ]) {
      expect(
        readableCommandId(value === null ? null : Buffer.from(value)),
        String(value),
      ).toBeNull();
    }
  });
});

describe("invalidCommands", () => {
  it("lists readable poison by id alone and refused commands whole, in offset order", () => {
    const rows = invalidCommands(
      [
        { record: record(9, JSON.stringify({ ...other, type: "archive" })), reason: "type" },
        { record: record(3, "not json {"), reason: "not JSON" },
      ],
      [{ record: record(5, encodeCommand(good)), command: good }],
    );
    expect(rows).toEqual([
      {
        command_id: good.command_id,
        todo_id: good.todo_id,
        actor: good.actor,
        type: good.type,
        issued_at: good.issued_at,
      },
      { command_id: other.command_id, todo_id: null, actor: null, type: null, issued_at: null },
    ]);
  });
});
