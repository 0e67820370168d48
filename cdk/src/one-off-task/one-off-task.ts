import { join } from "node:path";
import { Aws, type CfnElement, CustomResource, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import type * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as cr from "aws-cdk-lib/custom-resources";
import { Construct, type IDependable } from "constructs";
import { bundledFunction } from "../bundling";
import { REPO_ROOT } from "../images";
import { accept } from "../nag";
import type { Network } from "../network";
import type { Settings } from "../settings";
import type { OneOffTaskProperties } from "./handlers";

const RUNNER_ENTRY = join(REPO_ROOT, "cdk/src/one-off-task/runner.ts");

export interface OneOffTaskProps {
  /** Shown in errors: "migrate", "topics". */
  name: string;
  image: ecs.ContainerImage;
  command: string[];
  environment: Record<string, string>;
  secrets?: Record<string, ecs.Secret>;
  securityGroup: ec2.SecurityGroup;
  /** What must exist before the task starts: the peers' security groups (their rules). */
  after: IDependable[];
}

/**
 * Runs one-off Fargate tasks (schema migrations, topic creation) as a step of
 * the deployment: a custom resource starts the task and polls until it stops,
 * failing the deployment on a non-zero exit. A new image means a new task
 * definition revision, which re-runs the step (both steps are idempotent).
 */
export class OneOffTaskRunner extends Construct {
  private readonly provider: cr.Provider;
  private readonly starter: iam.IGrantable;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: { cluster: ecs.Cluster; network: Network; settings: Settings },
  ) {
    super(scope, id);
    const { settings, cluster } = props;
    const common = { entry: RUNNER_ENTRY, timeoutSec: 60, settings };
    const onEvent = bundledFunction(this, "Start", {
      ...common,
      handler: "onEvent",
      description: "million-rps: starts a one-off ECS task (migrations, topics)",
    });
    const isComplete = bundledFunction(this, "Wait", {
      ...common,
      handler: "isComplete",
      description: "million-rps: waits for a one-off ECS task and reports its exit",
    });
    isComplete.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["ecs:DescribeTasks"],
        resources: [
          `arn:${Aws.PARTITION}:ecs:${Aws.REGION}:${Aws.ACCOUNT_ID}:task/${cluster.clusterName}/*`,
        ],
      }),
    );
    const waiterLogs = new logs.LogGroup(this, "WaiterLogs", {
      retention: settings.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.provider = new cr.Provider(this, "Provider", {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: Duration.seconds(15),
      // Image pull plus a migration; a stuck task fails the deploy instead of hanging it.
      totalTimeout: Duration.minutes(30),
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        destination: waiterLogs,
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
    });
    this.starter = onEvent;
    accept(
      isComplete,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<${Stack.of(this).getLogicalId(cluster.node.defaultChild as CfnElement)}>/*]`,
      "Task ARNs exist only once RunTask returns; DescribeTasks is limited to tasks of this one cluster.",
    );
    accept(
      this.provider,
      "AwsSolutions-SF2",
      "The provider framework's waiter state machine only polls isComplete; X-Ray cannot be enabled on it and would trace nothing of ours.",
    );
    accept(
      this.provider,
      "AwsSolutions-IAM5[Resource::*]",
      "The waiter state machine's log delivery actions (logs:CreateLogDelivery and friends) accept no resource scope in IAM; the role holds nothing else on `*`.",
    );
    for (const fn of [onEvent, isComplete, ...frameworkFunctions(this.provider)]) {
      accept(
        this.provider,
        `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
        "The provider framework invokes its handler functions by ARN including any version or alias (`:*`); the functions are its own.",
      );
    }
  }

  /** Defines the task and the deployment step that runs it; returns the step to depend on. */
  run(
    scope: Construct,
    id: string,
    task: OneOffTaskProps,
  ): { step: CustomResource; taskDefinition: ecs.FargateTaskDefinition } {
    const { cluster, network } = this.props;
    const taskDefinition = defineOneOffTask(scope, id, task, this.props.settings);
    taskDefinition.grantRun(this.starter);
    const properties: OneOffTaskProperties = {
      Name: task.name,
      Cluster: cluster.clusterArn,
      TaskDefinition: taskDefinition.taskDefinitionArn,
      Subnets: network.vpc.selectSubnets(network.appSubnets).subnetIds,
      SecurityGroups: [task.securityGroup.securityGroupId],
    };
    const step = new CustomResource(scope, id, {
      serviceToken: this.provider.serviceToken,
      resourceType: "Custom::OneOffTask",
      properties,
    });
    // The task pulls its image through the NAT routes and connects through the peers' rules.
    step.node.addDependency(network.vpc, task.securityGroup, ...task.after);
    return { step, taskDefinition };
  }
}

/** The provider's own Lambdas (isComplete and onTimeout are invoked by its waiter). */
function frameworkFunctions(provider: cr.Provider): lambda.IFunction[] {
  return ["framework-isComplete", "framework-onTimeout"]
    .map((id) => provider.node.tryFindChild(id))
    .filter((c): c is lambda.Function => c !== undefined) as lambda.IFunction[];
}

/** A small Fargate ARM64 task that runs `command` once and exits (also used for the seed). */
export function defineOneOffTask(
  scope: Construct,
  id: string,
  task: Omit<OneOffTaskProps, "securityGroup" | "after">,
  settings: Settings,
): ecs.FargateTaskDefinition {
  const taskDefinition = new ecs.FargateTaskDefinition(scope, `${id}Task`, {
    cpu: 512,
    memoryLimitMiB: 1024,
    runtimePlatform: {
      cpuArchitecture: ecs.CpuArchitecture.ARM64,
      operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
    },
  });
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: settings.logRetentionDays,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  taskDefinition.addContainer(task.name, {
    image: task.image,
    command: task.command,
    environment: task.environment,
    ...(task.secrets && { secrets: task.secrets }),
    logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: task.name }),
  });
  accept(
    taskDefinition,
    "AwsSolutions-ECS2",
    "Environment holds only non-secret settings (endpoints, sizes, topic names); passwords and tokens come through `secrets` from Secrets Manager.",
  );
  acceptEcrLogin(taskDefinition);
  return taskDefinition;
}

/** The execution role's `ecr:GetAuthorizationToken` has no resource-level scope in IAM. */
export function acceptEcrLogin(taskDefinition: ecs.TaskDefinition): void {
  accept(
    taskDefinition,
    "AwsSolutions-IAM5[Resource::*]",
    "Only ecr:GetAuthorizationToken is on `*` (IAM offers no resource scope for it); image pulls and logs are scoped to this repository and log group.",
  );
}
