import type { Failure, Task } from "@aws-sdk/client-ecs";

/** Where a one-off ECS task stands, as the custom resource must report it. */
export type TaskOutcome =
  | { state: "running"; status: string }
  | { state: "succeeded" }
  | { state: "failed"; reason: string };

/**
 * A task has succeeded only once it is STOPPED and every container exited 0.
 * A container without an exit code never ran its command (image pull,
 * secret fetch, ENI failure): that is a failure, with ECS's reason.
 */
export function taskOutcome(task: Task): TaskOutcome {
  const status = task.lastStatus ?? "UNKNOWN";
  if (status !== "STOPPED") return { state: "running", status };
  const containers = task.containers ?? [];
  const failed = containers.filter((c) => c.exitCode !== 0);
  if (containers.length > 0 && failed.length === 0) return { state: "succeeded" };
  const why = failed.map((c) =>
    c.exitCode === undefined
      ? `${c.name ?? "container"} did not run${c.reason ? ` (${c.reason})` : ""}`
      : `${c.name ?? "container"} exited ${c.exitCode}`,
  );
  const stopped = [task.stopCode, task.stoppedReason].filter(Boolean).join(": ");
  return {
    state: "failed",
    reason: [...why, stopped].filter((s) => s !== "").join("; ") || "stopped without containers",
  };
}

/** RunTask answers 200 with `failures` when it could not place the task. */
export function runTaskFailure(failures: readonly Failure[] | undefined): string | undefined {
  if (failures === undefined || failures.length === 0) return undefined;
  return failures.map((f) => [f.arn, f.reason, f.detail].filter(Boolean).join(" ")).join("; ");
}
