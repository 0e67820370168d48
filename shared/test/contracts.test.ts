import { describe, expect, it } from "vitest";
import { encodeCommand, parseCommand } from "../src/command";
import { decodeCursor, encodeCursor } from "../src/cursor";
import { deriveId, isUuid } from "../src/ids";
import { parseLimit } from "../src/read-model";
import { validateNewTodo, validateTodoUpdate } from "../src/todo";

const ID = "0b6f3f36-2c1d-4c4e-9a57-0d5f5e8b1a01";

describe("todo validation", () => {
  it("accepts a minimal create and fills defaults", () => {
    expect(validateNewTodo({ title: "x" })).toEqual({
      ok: true,
      value: { title: "x", description: "", completed: false },
    });
  });
  it.each([
    [{}, "title"],
    [{ title: "" }, "title"],
    [{ title: "   " }, "title"],
    [{ title: "a".repeat(201) }, "title"],
    [{ title: 5 }, "title"],
    [{ title: "ok", completed: "yes" }, "completed"],
    [{ title: "ok", description: "d".repeat(2001) }, "description"],
    [{ title: "ok", owner: "me" }, "owner"],
    [{ title: "nul\u0000byte" }, "title"],
    [{ title: "bell\u0007" }, "title"],
    [{ title: "two\nlines" }, "title"],
    [{ title: "ok", description: "nul\u0000" }, "description"],
  ])("rejects %j naming %s", (input, field) => {
    const r = validateNewTodo(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.field).toBe(field);
  });
  it("keeps tabs and line breaks in a description", () => {
    expect(validateNewTodo({ title: "t", description: "a\tb\r\nc" }).ok).toBe(true);
  });
  it("counts characters, not UTF-16 units", () => {
    expect(validateNewTodo({ title: "😀".repeat(200) }).ok).toBe(true);
    expect(validateNewTodo({ title: "😀".repeat(201) }).ok).toBe(false);
    expect(validateNewTodo({ title: `${"a".repeat(199)}😀` }).ok).toBe(true);
    expect(validateNewTodo({ title: "ok", description: "é".repeat(2000) }).ok).toBe(true);
    expect(validateNewTodo({ title: "ok", description: `${"😀".repeat(1999)}ab` }).ok).toBe(false);
  });
  it("ignores inherited keys and still names an unknown own key", () => {
    const fields = Object.assign(Object.create({ inherited: 1 }), { title: "t" });
    expect(validateNewTodo(fields).ok).toBe(true);
    const r = validateTodoUpdate({ completed: true, constructor: 1 });
    expect(r.ok === false && r.field).toBe("constructor");
  });
  it("needs a non-empty update", () => {
    expect(validateTodoUpdate({}).ok).toBe(false);
    expect(validateTodoUpdate({ completed: true })).toEqual({
      ok: true,
      value: { completed: true },
    });
    expect(validateTodoUpdate([]).ok).toBe(false);
  });
});

describe("command envelope", () => {
  const create = {
    v: 1 as const,
    command_id: ID,
    type: "create" as const,
    todo_id: ID,
    actor: "alice",
    data: { title: "t", description: "", completed: false },
    issued_at: "2026-01-01T00:00:00.000Z",
  };
  it("round-trips", () => {
    expect(parseCommand(encodeCommand(create))).toEqual({ ok: true, value: create });
  });
  it.each([
    ["not JSON", Buffer.from("{nope")],
    ["unsupported version", Buffer.from(JSON.stringify({ ...create, v: 2 }))],
    ["unknown type", Buffer.from(JSON.stringify({ ...create, type: "rename" }))],
    ["create data", Buffer.from(JSON.stringify({ ...create, data: { title: 1 } }))],
    ["todo_id", Buffer.from(JSON.stringify({ ...create, todo_id: "x" }))],
    ["empty message", null],
  ])("marks %s as poison", (reason, bytes) => {
    const r = parseCommand(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(reason);
  });
});

describe("cursor", () => {
  it("round-trips and is opaque", () => {
    const c = { createdAtMicros: 1_795_734_327_803_123n, id: ID };
    const text = encodeCursor(c);
    expect(text).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(decodeCursor(text)).toEqual(c);
  });
  it.each([
    "",
    "abc",
    "A".repeat(31),
    "A".repeat(33),
    "!".repeat(32),
    `${"A".repeat(31)}=`,
    "-".repeat(32),
  ])("refuses %j", (text) => {
    expect(decodeCursor(text)).toBeNull();
  });
  it("refuses truncated and padded forms", () => {
    const text = encodeCursor({ createdAtMicros: 5n, id: ID });
    expect(decodeCursor(text.slice(0, -1))).toBeNull();
    expect(decodeCursor(`${text}=`)).toBeNull();
  });
});

describe("limit", () => {
  it.each([
    [undefined, 100],
    ["1", 1],
    ["1000", 1000],
    ["abc", null],
    ["-1", null],
    ["0", null],
    ["1001", null],
    ["1e3", null],
    ["10abc", null],
    ["", null],
    [" 5", null],
  ])("%j -> %j", (raw, want) => {
    expect(parseLimit(raw)).toBe(want);
  });
});

describe("ids", () => {
  it("accepts only the canonical lower-case 8-4-4-4-12 form", () => {
    expect(isUuid(ID)).toBe(true);
    const bad = [ID.toUpperCase(), `${ID}0`, ID.slice(1), ID.replaceAll("-", ""), "", 5, null];
    for (const value of bad) expect(isUuid(value)).toBe(false);
  });
  it("derives stable UUIDs that differ by every part", () => {
    const a = deriveId("command", "alice", "key-1");
    expect(isUuid(a)).toBe(true);
    expect(a[14]).toBe("8");
    expect(deriveId("command", "alice", "key-1")).toBe(a);
    expect(deriveId("command", "bob", "key-1")).not.toBe(a);
    expect(deriveId("command", "alicek", "ey-1")).not.toBe(deriveId("command", "alice", "key-1"));
  });
});
