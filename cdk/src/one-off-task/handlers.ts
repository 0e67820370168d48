import type {
  DescribeTasksCommandInput,
  DescribeTasksCommandOutput,
  RunTaskCommandInput,
  RunTaskCommandOutput,
} from "@aws-sdk/client-ecs";
import { runTaskFailure, taskOutcome } from "./outcome";

/** What the CDK construct passes to the custom resource. */
export interface OneOffTaskProperties {
  Name: string;
  Cluster: string;
  TaskDefinition: string;
  Subnets: string[];
  SecurityGroups: string[];
}

/** The custom-resource provider framework's event (onEvent and isComplete). */
export interface ProviderEvent {
  RequestType: "Create" | "Update" | "Delete";
  PhysicalResourceId?: string;
  ResourceProperties: OneOffTaskProperties & { ServiceToken?: string };
  Data?: { TaskArn?: string };
}

export interface EcsApi {
  runTask(input: RunTaskCommandInput): Promise<RunTaskCommandOutput>;
  describeTasks(input: DescribeTasksCommandInput): Promise<DescribeTasksCommandOutput>;
}

type Log = (msg: string, fields: Record<string, unknown>) => void;

/**
 * Runs a one-off Fargate task on Create and Update (a new task definition
 * revision, i.e. a new image, is an Update) and waits for it: the deployment
 * fails when the task fails, so the services never start on an unmigrated
 * schema or without topics. Delete runs nothing.
 */
export function oneOffTaskHandlers(ecs: EcsApi, log: Log) {
  async function onEvent(event: ProviderEvent) {
    const props = event.ResourceProperties;
    if (event.RequestType === "Delete") return { PhysicalResourceId: event.PhysicalResourceId };
    const out = await ecs.runTask({
      cluster: props.Cluster,
      taskDefinition: props.TaskDefinition,
      launchType: "FARGATE",
      count: 1,
      startedBy: "cloudformation",
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: props.Subnets,
          securityGroups: props.SecurityGroups,
          assignPublicIp: "DISABLED",
        },
      },
    });
    const failure = runTaskFailure(out.failures);
    const taskArn = out.tasks?.[0]?.taskArn;
    if (failure !== undefined || taskArn === undefined) {
      throw new Error(`${props.Name}: could not start the task: ${failure ?? "no task returned"}`);
    }
    log("one-off task started", { name: props.Name, taskArn });
    return { PhysicalResourceId: props.Name, Data: { TaskArn: taskArn } };
  }

  async function isComplete(event: ProviderEvent) {
    if (event.RequestType === "Delete") return { IsComplete: true };
    const props = event.ResourceProperties;
    const taskArn = event.Data?.TaskArn;
    if (taskArn === undefined) throw new Error(`${props.Name}: no task to wait for`);
    const out = await ecs.describeTasks({ cluster: props.Cluster, tasks: [taskArn] });
    const task = out.tasks?.[0];
    // Right after RunTask a describe may not see the task yet: keep waiting.
    if (task === undefined) return { IsComplete: false };
    const outcome = taskOutcome(task);
    if (outcome.state === "running") return { IsComplete: false };
    if (outcome.state === "failed") {
      log("one-off task failed", { name: props.Name, taskArn, reason: outcome.reason });
      throw new Error(
        `${props.Name} failed: ${outcome.reason} (task ${taskArn}; see its log group)`,
      );
    }
    log("one-off task succeeded", { name: props.Name, taskArn });
    return { IsComplete: true };
  }

  return { onEvent, isComplete };
}
