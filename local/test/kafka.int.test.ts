import { Kafka, logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";
import { freshTopics, testServices, uniqueName } from "../src/testing";

describe("the harness's real Kafka broker", () => {
  it("produces, consumes in a group, commits, and resumes after the commit", async () => {
    const { topic } = await freshTopics(2);
    const kafka = new Kafka({
      clientId: "harness-test",
      brokers: testServices().kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 3}`, value: `m${i}` })),
    });

    const groupId = uniqueName("g-");
    const consumeUntil = async (count: number, commitAfter: number) => {
      const consumer = kafka.consumer({ groupId });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const got: string[] = [];
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              got.push(String(message.value));
              if (got.length <= commitAfter) {
                await consumer.commitOffsets([
                  { topic, partition, offset: String(Number(message.offset) + 1) },
                ]);
              }
              if (got.length === count) resolve();
            },
          })
          .catch(reject);
      });
      await consumer.disconnect();
      return got;
    };

    // Read all 10 but commit only the first 4 consumed; the group resumes from the commits.
    const first = await consumeUntil(10, 4);
    expect(new Set(first).size).toBe(10);
    const second = await consumeUntil(6, 0);
    expect(new Set([...first.slice(0, 4), ...second])).toEqual(new Set(first));
    await producer.disconnect();
  });
});
