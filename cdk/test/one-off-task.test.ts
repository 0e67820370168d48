import type { DescribeTasksCommandInput, RunTaskCommandInput, Task } from "@aws-sdk/client-ecs";
import { describe, expect, it } from "vitest";
import { type EcsApi, oneOffTaskHandlers, type ProviderEvent } from "../src/one-off-task/handlers";
import { runTaskFailure, taskOutcome } from "../src/one-off-task/outcome";

describe("taskOutcome", () => {
  it("waits while the task is not stopped", () => {
    expect(taskOutcome({ lastStatus: "PROVISIONING" })).toEqual({
      state: "running",
      status: "PROVISIONING",
    });
    expect(taskOutcome({})).toEqual({ state: "running", status: "UNKNOWN" });
  });

  it("succeeds only when every container exited 0", () => {
    expect(
      taskOutcome({ lastStatus: "STOPPED", containers: [{ name: "m", exitCode: 0 }] }),
    ).toEqual({ state: "succeeded" });
  });

  it("fails with the exit code of the failing container", () => {
    const outcome = taskOutcome({
      lastStatus: "STOPPED",
      stopCode: "EssentialContainerExited",
      stoppedReason: "Essential container in task exited",
      containers: [{ name: "migrate", exitCode: 1 }],
    });
    expect(outcome).toEqual({
      state: "failed",
      reason: "migrate exited 1; EssentialContainerExited: Essential container in task exited",
    });
  });

  it("fails when a container never ran (image pull, secrets)", () => {
    const outcome = taskOutcome({
      lastStatus: "STOPPED",
      stopCode: "TaskFailedToStart",
      stoppedReason: "ResourceInitializationError: unable to pull secrets",
      containers: [{ name: "migrate", reason: "CannotPullContainerError" }],
    });
    expect(outcome.state).toBe("failed");
    expect(outcome.state === "failed" && outcome.reason).toMatch(
      /migrate did not run \(CannotPullContainerError\); TaskFailedToStart: ResourceInitializationError/,
    );
  });

  it("fails a stopped task without containers", () => {
    expect(taskOutcome({ lastStatus: "STOPPED" })).toEqual({
      state: "failed",
      reason: "stopped without containers",
    });
  });
});

describe("runTaskFailure", () => {
  it("reports RunTask's placement failures", () => {
    expect(runTaskFailure(undefined)).toBeUndefined();
    expect(runTaskFailure([])).toBeUndefined();
    expect(runTaskFailure([{ arn: "arn:x", reason: "RESOURCE:ENI", detail: "limit" }])).toBe(
      "arn:x RESOURCE:ENI limit",
    );
  });
});

/** A scripted ECS: records the calls, answers DescribeTasks from a queue of task states. */
function fakeEcs(states: Task[], runTaskAnswer?: Awaited<ReturnType<EcsApi["runTask"]>>) {
  const runs: RunTaskCommandInput[] = [];
  const describes: DescribeTasksCommandInput[] = [];
  const api: EcsApi = {
    async runTask(input) {
      runs.push(input);
      return runTaskAnswer ?? { tasks: [{ taskArn: "arn:task/1" }], $metadata: {} };
    },
    async describeTasks(input) {
      describes.push(input);
      const next = states.shift();
      return { tasks: next === undefined ? [] : [next], $metadata: {} };
    },
  };
  return { api, runs, describes };
}

const props = {
  Name: "migrate",
  Cluster: "arn:cluster",
  TaskDefinition: "arn:taskdef:3",
  Subnets: ["subnet-a", "subnet-b"],
  SecurityGroups: ["sg-1"],
};
const noLog = () => {};

describe("oneOffTaskHandlers", () => {
  it("starts the task in the private subnets without a public IP", async () => {
    const ecs = fakeEcs([]);
    const { onEvent } = oneOffTaskHandlers(ecs.api, noLog);
    const out = await onEvent({ RequestType: "Create", ResourceProperties: props });
    expect(out).toEqual({ PhysicalResourceId: "migrate", Data: { TaskArn: "arn:task/1" } });
    expect(ecs.runs).toEqual([
      expect.objectContaining({
        cluster: "arn:cluster",
        taskDefinition: "arn:taskdef:3",
        launchType: "FARGATE",
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: ["subnet-a", "subnet-b"],
            securityGroups: ["sg-1"],
            assignPublicIp: "DISABLED",
          },
        },
      }),
    ]);
  });

  it("reruns on Update (a new image is a new task definition revision)", async () => {
    const ecs = fakeEcs([]);
    const { onEvent } = oneOffTaskHandlers(ecs.api, noLog);
    await onEvent({
      RequestType: "Update",
      PhysicalResourceId: "migrate",
      ResourceProperties: props,
    });
    expect(ecs.runs).toHaveLength(1);
  });

  it("runs nothing on Delete", async () => {
    const ecs = fakeEcs([]);
    const { onEvent, isComplete } = oneOffTaskHandlers(ecs.api, noLog);
    const event: ProviderEvent = {
      RequestType: "Delete",
      PhysicalResourceId: "migrate",
      ResourceProperties: props,
    };
    expect(await onEvent(event)).toEqual({ PhysicalResourceId: "migrate" });
    expect(await isComplete(event)).toEqual({ IsComplete: true });
    expect(ecs.runs).toHaveLength(0);
    expect(ecs.describes).toHaveLength(0);
  });

  it("fails the deployment when RunTask cannot place the task", async () => {
    const ecs = fakeEcs([], {
      tasks: [],
      failures: [{ reason: "RESOURCE:MEMORY" }],
      $metadata: {},
    });
    const { onEvent } = oneOffTaskHandlers(ecs.api, noLog);
    await expect(onEvent({ RequestType: "Create", ResourceProperties: props })).rejects.toThrow(
      "migrate: could not start the task: RESOURCE:MEMORY",
    );
  });

  it("polls until the task stops, then reports its exit", async () => {
    const ecs = fakeEcs([
      { lastStatus: "PENDING" },
      { lastStatus: "RUNNING" },
      { lastStatus: "STOPPED", containers: [{ name: "migrate", exitCode: 0 }] },
    ]);
    const { isComplete } = oneOffTaskHandlers(ecs.api, noLog);
    const event: ProviderEvent = {
      RequestType: "Create",
      PhysicalResourceId: "migrate",
      ResourceProperties: props,
      Data: { TaskArn: "arn:task/1" },
    };
    expect(await isComplete(event)).toEqual({ IsComplete: false });
    expect(await isComplete(event)).toEqual({ IsComplete: false });
    expect(await isComplete(event)).toEqual({ IsComplete: true });
    expect(ecs.describes[0]).toEqual({ cluster: "arn:cluster", tasks: ["arn:task/1"] });
  });

  it("keeps waiting while DescribeTasks does not see the new task yet", async () => {
    const ecs = fakeEcs([]);
    const { isComplete } = oneOffTaskHandlers(ecs.api, noLog);
    const event: ProviderEvent = {
      RequestType: "Create",
      ResourceProperties: props,
      Data: { TaskArn: "arn:task/1" },
    };
    expect(await isComplete(event)).toEqual({ IsComplete: false });
  });

  it("fails the deployment with the container's exit code", async () => {
    const ecs = fakeEcs([
      { lastStatus: "STOPPED", containers: [{ name: "migrate", exitCode: 3 }] },
    ]);
    const { isComplete } = oneOffTaskHandlers(ecs.api, noLog);
    await expect(
      isComplete({
        RequestType: "Update",
        ResourceProperties: props,
        Data: { TaskArn: "arn:task/1" },
      }),
    ).rejects.toThrow("migrate failed: migrate exited 3 (task arn:task/1; see its log group)");
  });
});
