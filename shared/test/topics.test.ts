import { describe, expect, it } from "vitest";
import { ensureTriageOffsets, growPartitions } from "../src/topics";

function fakeAdmin(partitions: Record<string, number>) {
  const calls: unknown[] = [];
  const admin = {
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({
      topics: topics
        .filter((t) => partitions[t] !== undefined)
        .map((name) => ({
          name,
          partitions: Array.from({ length: partitions[name] ?? 0 }, (_, i) => ({
            partitionId: i,
            leader: 1,
            replicas: [1],
            isr: [1],
            offlineReplicas: [],
            partitionErrorCode: 0,
          })),
        })),
    }),
    createPartitions: async (args: unknown) => {
      calls.push(args);
      return true;
    },
  };
  return { admin, calls };
}

describe("growPartitions (the topics step)", () => {
  it("adds partitions when the count grew", async () => {
    const { admin, calls } = fakeAdmin({ "todo-commands": 6, "todo-commands.dlq": 3 });
    const changes = await growPartitions(admin, [
      { topic: "todo-commands", numPartitions: 24 },
      { topic: "todo-commands.dlq", numPartitions: 3 },
    ]);
    expect(changes).toEqual([
      { topic: "todo-commands", from: 6, to: 24, outcome: "grown" },
      { topic: "todo-commands.dlq", from: 3, to: 3, outcome: "kept" },
    ]);
    expect(calls).toEqual([
      { validateOnly: false, topicPartitions: [{ topic: "todo-commands", count: 24 }] },
    ]);
  });

  it("never shrinks a topic: a smaller count is reported and nothing is changed", async () => {
    const { admin, calls } = fakeAdmin({ "todo-commands": 24 });
    const changes = await growPartitions(admin, [{ topic: "todo-commands", numPartitions: 6 }]);
    expect(changes).toEqual([{ topic: "todo-commands", from: 24, to: 24, outcome: "not-shrunk" }]);
    expect(calls).toEqual([]);
  });

  it("fails on a topic that does not exist (creation comes first)", async () => {
    const { admin } = fakeAdmin({});
    await expect(growPartitions(admin, [{ topic: "nope", numPartitions: 3 }])).rejects.toThrow(
      /does not exist/,
    );
  });
});

describe("ensureTriageOffsets", () => {
  it("commits the earliest offset where the triage group has none, and leaves triaged partitions alone", async () => {
    const set: unknown[] = [];
    const admin = {
      fetchOffsets: async () => [
        {
          topic: "todo-commands.dlq",
          partitions: [
            { partition: 0, offset: "42", metadata: null },
            { partition: 1, offset: "-1", metadata: null },
          ],
        },
      ],
      fetchTopicOffsets: async () => [
        { partition: 0, offset: "50", high: "50", low: "0" },
        { partition: 1, offset: "7", high: "7", low: "2" },
        { partition: 2, offset: "0", high: "0", low: "0" },
      ],
      setOffsets: async (args: unknown) => {
        set.push(args);
      },
    };
    expect(await ensureTriageOffsets(admin, "todo-dlq-triage", "todo-commands.dlq")).toEqual([
      1, 2,
    ]);
    expect(set).toEqual([
      {
        groupId: "todo-dlq-triage",
        topic: "todo-commands.dlq",
        partitions: [
          { partition: 1, offset: "2" },
          { partition: 2, offset: "0" },
        ],
      },
    ]);
  });
});
