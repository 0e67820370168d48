/** Lambda entry for the one-off task custom resource (bundled by NodejsFunction). */
import { DescribeTasksCommand, ECSClient, RunTaskCommand } from "@aws-sdk/client-ecs";
import { oneOffTaskHandlers } from "./handlers";

const client = new ECSClient({});
const handlers = oneOffTaskHandlers(
  {
    runTask: (input) => client.send(new RunTaskCommand(input)),
    describeTasks: (input) => client.send(new DescribeTasksCommand(input)),
  },
  (msg, fields) => console.log(JSON.stringify({ level: "info", msg, ...fields })),
);

export const onEvent = handlers.onEvent;
export const isComplete = handlers.isComplete;
