import { type Duration, Stack, type StackProps } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { Construct } from "constructs";
import { AlarmTopic, ONE_MINUTE } from "./alarms";
import { applySuppressions } from "./nag";

/** CloudFront publishes its metrics in us-east-1 only, with Region=Global beside the distribution. */
export const CLOUDFRONT_METRICS_REGION = "us-east-1";

export const CDN_THRESHOLDS = { read5xxPercent: 1, readOriginP99Ms: 100 } as const;

/**
 * A CloudFront metric as CloudFront publishes it. CDK's `distribution.metric*()`
 * leave out Region=Global and take the stack's region (aws-cdk issue 19245):
 * an alarm on them watches a metric that never exists and stays OK forever.
 */
export function cloudFrontMetric(
  distributionId: string,
  metricName: string,
  statistic: string,
  period: Duration = ONE_MINUTE,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: "AWS/CloudFront",
    metricName,
    dimensionsMap: { DistributionId: distributionId, Region: "Global" },
    region: CLOUDFRONT_METRICS_REGION,
    statistic,
    period,
  });
}

/** The read path as the edge sees it: 5xx share and origin p99 (the NLB sees only TCP). */
export class CdnAlarms extends Construct {
  constructor(scope: Construct, id: string, distributionId: string, alarms: AlarmTopic) {
    super(scope, id);
    if (Stack.of(this).region !== CLOUDFRONT_METRICS_REGION) {
      throw new Error(`CloudFront alarms must live in ${CLOUDFRONT_METRICS_REGION}`);
    }
    alarms.alarm(this, "Read5xx", {
      metric: cloudFrontMetric(distributionId, "5xxErrorRate", "Average"),
      threshold: CDN_THRESHOLDS.read5xxPercent,
      description: "CloudFront answers 5xx for reads (origin errors or unreachable NLB)",
    });
    alarms.alarm(this, "ReadOriginP99", {
      metric: cloudFrontMetric(distributionId, "OriginLatency", "p99"),
      threshold: CDN_THRESHOLDS.readOriginP99Ms,
      description: "Read p99 at the origin, as CloudFront measures it",
    });
  }
}

export interface EdgeAlarmsStackProps extends StackProps {
  distributionId: string;
  alarmEmail: string | undefined;
}

/**
 * When the stack lives outside us-east-1, the CDN alarms (and a topic for them:
 * an alarm notifies SNS in its own region) live in this small stack in us-east-1.
 * The distribution id crosses regions through CDK's cross-region references.
 */
export class EdgeAlarmsStack extends Stack {
  readonly alarms: AlarmTopic;

  constructor(scope: Construct, id: string, props: EdgeAlarmsStackProps) {
    super(scope, id, props);
    this.alarms = new AlarmTopic(this, "Alarms", props.alarmEmail);
    new CdnAlarms(this, "Cdn", props.distributionId, this.alarms);
    applySuppressions(this);
  }
}
