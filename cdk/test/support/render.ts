import type { Template } from "aws-cdk-lib/assertions";
import { resourcesOf } from "./synth";

/** A logical id without CDK's hash suffix: `CommandLogCluster3CEB58ED` -> `CommandLogCluster`. */
export function bare(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, "");
}

/**
 * Renders a CloudFormation value as a readable string so tests can state
 * expectations plainly: `{Ref: X}` -> `<X>`, `{Fn::GetAtt: [X, A]}` -> `<X.A>` (cdk-nag's
 * notation), joins concatenated, `Fn::Select(i, Fn::Split("/", v))` -> `<v>[/i]`,
 * and logical ids stripped of their hash.
 */
export function render(value: unknown): string {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  if (Array.isArray(value)) return value.map(render).join(",");
  if (value !== null && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if ("Ref" in o) return `<${bare(String(o.Ref))}>`;
    if ("Fn::GetAtt" in o) {
      const [id, attr] = o["Fn::GetAtt"] as [string, string];
      return `<${bare(id)}.${attr}>`;
    }
    if ("Fn::Join" in o) {
      const [sep, parts] = o["Fn::Join"] as [string, unknown[]];
      return parts.map(render).join(sep);
    }
    if ("Fn::Select" in o) {
      const [index, list] = o["Fn::Select"] as [number, unknown];
      const split = (list as Record<string, unknown>)["Fn::Split"] as [string, unknown] | undefined;
      if (split) return `${render(split[1])}[${split[0]}${index}]`;
      return `${render(list)}[${index}]`;
    }
    if ("Fn::Sub" in o) return String(o["Fn::Sub"]);
  }
  return JSON.stringify(value);
}

export interface Grant {
  actions: string[];
  resources: string[];
  condition?: unknown;
}

function list<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Every Allow statement attached to the role whose logical id starts with `rolePrefix`. */
export function grantsOf(template: Template, rolePrefix: string): Grant[] {
  const roles = Object.keys(resourcesOf(template, "AWS::IAM::Role")).filter((id) =>
    id.startsWith(rolePrefix),
  );
  if (roles.length !== 1)
    throw new Error(`expected one role ${rolePrefix}*, got ${roles.join(", ")}`);
  const role = roles[0] as string;
  const grants: Grant[] = [];
  for (const policy of Object.values(resourcesOf(template, "AWS::IAM::Policy"))) {
    const props = policy.Properties as { Roles?: { Ref?: string }[]; PolicyDocument: unknown };
    if (!(props.Roles ?? []).some((r) => r.Ref === role)) continue;
    const doc = props.PolicyDocument as { Statement: Record<string, unknown>[] };
    for (const s of doc.Statement) {
      if (s.Effect !== "Allow") continue;
      grants.push({
        actions: list(s.Action as string | string[]).sort(),
        resources: list(s.Resource).map(render),
        ...(s.Condition === undefined ? {} : { condition: s.Condition }),
      });
    }
  }
  return grants;
}

/** `action on resource` pairs, sorted: the shape least-privilege assertions compare. */
export function permissionsOf(template: Template, rolePrefix: string): string[] {
  return grantsOf(template, rolePrefix)
    .flatMap((g) => g.actions.flatMap((a) => g.resources.map((r) => `${a} on ${r}`)))
    .sort();
}

export const CLUSTER = "<CommandLogCluster.Arn>";
const kafkaResource = (kind: string, name: string) =>
  `arn:<AWS::Partition>:kafka:<AWS::Region>:<AWS::AccountId>:${kind}/${CLUSTER}[/1]/${CLUSTER}[/2]/${name}`;
export const topicArn = (name: string) => kafkaResource("topic", name);
export const groupArn = (name: string) => kafkaResource("group", name);

/** name -> rendered value of a container's or function's environment. */
export function environmentOf(
  variables: { Name: string; Value: unknown }[] | Record<string, unknown>,
): Record<string, string> {
  const entries = Array.isArray(variables)
    ? variables.map((v) => [v.Name, v.Value] as const)
    : Object.entries(variables);
  return Object.fromEntries(entries.map(([k, v]) => [k, render(v)]));
}
