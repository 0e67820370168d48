import { type Stack, Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

/**
 * Accepts one cdk-nag finding on `scope` (and everything under it), with the
 * reason it is accepted. Findings are accepted where the resource is built,
 * so the reason sits next to the code it excuses; the tests fail on any
 * finding that is not accepted and on any reason shorter than a sentence.
 */
export function accept(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

const MANAGED_LAMBDA_POLICIES = {
  "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]":
    "AWSLambdaBasicExecutionRole grants only CloudWatch Logs writes (CreateLogStream/PutLogEvents); a copy as a customer policy would say the same.",
  "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]":
    "AWSLambdaVPCAccessExecutionRole grants only the ENI actions a function in a VPC needs (they accept no resource scope) plus log writes.",
};

/** Findings accepted for the whole stack: AWS's own minimal Lambda service-role policies. */
export function applySuppressions(stack: Stack): void {
  for (const [id, reason] of Object.entries(MANAGED_LAMBDA_POLICIES)) accept(stack, id, reason);
}
