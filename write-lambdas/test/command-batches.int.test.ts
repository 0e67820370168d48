import { testServices } from "@million-rps/local/testing";
import { COMMAND_VERSION, type CommandEnvelope, newId } from "@million-rps/shared";
import { createLogger } from "@million-rps/shared/pino-logger";
import { ensureCommandTopics } from "@million-rps/shared/topics";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CommandSender, kafkaCommandSender } from "../src/kafka/command-sender";
import { messagesOn, topicReader } from "./kafka-support";

// One producer, one produce request in flight: what is sent meanwhile goes out
// together in the next request (group commit), so answers keep up with the broker
// instead of queueing one request each behind it. Each still resolves only once the
// broker holds it, and a todo's commands keep their order.

const topic = `command-batches-${Date.now().toString(36)}`;
const brokers = [...testServices().kafkaBrokers];
const batches: number[] = [];
let sender: CommandSender;

function create(todoId: string, n: number): CommandEnvelope {
  return {
    v: COMMAND_VERSION,
    command_id: newId(),
    todo_id: todoId,
    actor: "batch-test",
    issued_at: new Date().toISOString(),
    type: "create",
    data: { title: `batch ${n}`, description: "", completed: false },
  } as CommandEnvelope;
}

beforeAll(async () => {
  await ensureCommandTopics(new Kafka({ brokers, logLevel: logLevel.NOTHING }), {
    topic,
    dlqTopic: `${topic}.dlq`,
    partitions: 6,
  });
  sender = kafkaCommandSender({
    connection: { brokers, mskClusterArn: undefined, auth: "none", region: undefined },
    topic,
    timeoutMs: 10_000,
    log: createLogger("command-batches-test", { level: "error", write: () => {} }),
    onBatch: (n) => batches.push(n),
  });
  await sender.send(create(newId(), -1)); // connected, and the producer id is known
}, 60_000);

afterAll(async () => {
  await sender?.close();
});

describe("commands sent while one is in flight", () => {
  it("a command sent right as the one before it is answered goes out too (no flush is missed)", async () => {
    // Each send starts in the continuation of the previous answer: the moment the
    // sender finishes one flush and must start the next.
    const before = batches.length;
    for (let n = 0; n < 20; n++) await sender.send(create(newId(), 1000 + n));
    expect(batches.length - before).toBe(20);
  }, 30_000);

  it("go out in far fewer produce requests than commands, each answered once the broker holds it, in order per todo", async () => {
    batches.length = 0;
    const before = await messagesOn(brokers, topic);
    const ordered = newId();
    const commands = Array.from({ length: 300 }, (_, n) =>
      create(n % 10 === 0 ? ordered : newId(), n),
    );
    let answered = 0;
    await Promise.all(
      commands.map((c) =>
        sender.send(c).then(() => {
          answered++;
        }),
      ),
    );
    expect(answered).toBe(300);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(300);
    // The first goes alone; the rest waited for it and for each other.
    expect(batches.length).toBeLessThan(30);
    // Everything answered is on the topic.
    expect((await messagesOn(brokers, topic)) - before).toBe(300);

    const reader = await topicReader(brokers, topic);
    try {
      const expected = commands.filter((c) => c.todo_id === ordered).map((c) => c.command_id);
      const deadline = Date.now() + 20_000;
      const onTopic = () =>
        reader.received
          .filter((r) => r.key === ordered)
          .map((r) => (JSON.parse(r.value ?? "{}") as CommandEnvelope).command_id);
      while (onTopic().length < expected.length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(onTopic()).toEqual(expected);
    } finally {
      await reader.stop();
    }
  });
});
