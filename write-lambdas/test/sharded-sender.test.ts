import type { CommandEnvelope } from "@million-rps/shared";
import { describe, expect, it } from "vitest";
import { type CommandSender, shardedCommandSender } from "../src/kafka/command-sender";

function recording(): CommandSender & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    async send(command) {
      sent.push(command.todo_id);
    },
    async close() {},
  };
}

const command = (todoId: string) => ({ todo_id: todoId }) as CommandEnvelope;
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

describe("shardedCommandSender", () => {
  it("sends every command of one todo through the same producer, and spreads todos over all", async () => {
    const senders = Array.from({ length: 4 }, recording);
    const sharded = shardedCommandSender(senders);
    for (let n = 0; n < 200; n++) await sharded.send(command(id(n % 50)));
    for (let n = 0; n < 50; n++) {
      expect(senders.filter((s) => s.sent.includes(id(n)))).toHaveLength(1);
    }
    expect(senders.every((s) => s.sent.length > 0)).toBe(true);
  });

  it("is the sender itself when there is one", () => {
    const one = recording();
    expect(shardedCommandSender([one])).toBe(one);
  });
});
