import { Annotations, Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";

/**
 * Where alarms go: an encrypted SNS topic (CloudWatch may use the key to
 * publish), with an e-mail subscription to `alarmEmail`. Without one the alarms
 * reach nobody: the million profile refuses that (settings.ts), any other synth
 * warns about it.
 */
export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;
  private readonly action: actions.SnsAction;

  constructor(scope: Construct, id: string, email: string | undefined) {
    super(scope, id);
    const key = new kms.Key(this, "Key", {
      description: "million-rps alarm topic",
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
      }),
    );
    this.topic = new sns.Topic(this, "Topic", { masterKey: key, enforceSSL: true });
    if (email !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    } else {
      Annotations.of(this).addWarningV2(
        "million-rps:noAlarmSubscriber",
        "The alarm topic has no subscriber: alarms fire and reach nobody. Set -c alarmEmail=you@example.com (or subscribe the topic yourself).",
      );
    }
    this.action = new actions.SnsAction(this.topic);
  }

  /** An alarm that notifies the topic when it fires and when it recovers. */
  alarm(
    scope: Construct,
    id: string,
    props: {
      metric: cloudwatch.IMetric;
      threshold: number;
      description: string;
      below?: boolean;
      evaluationPeriods?: number;
      datapointsToAlarm?: number;
      missingIsBreach?: boolean;
    },
  ): cloudwatch.Alarm {
    const evaluationPeriods = props.evaluationPeriods ?? 5;
    const alarm = new cloudwatch.Alarm(scope, id, {
      metric: props.metric,
      threshold: props.threshold,
      alarmDescription: props.description,
      comparisonOperator: props.below
        ? cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
        : cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm: props.datapointsToAlarm ?? Math.min(3, evaluationPeriods),
      treatMissingData: props.missingIsBreach
        ? cloudwatch.TreatMissingData.BREACHING
        : cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    return alarm;
  }
}

export const ONE_MINUTE = Duration.minutes(1);
