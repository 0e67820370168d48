/**
 * The million profile with its defaults, deployed outside us-east-1 (eu-west-1,
 * committed lookups): the CDN alarms move to a stack in us-east-1.
 */
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { nagFindings, resourceNamed, resourcesOf, synthStack } from "./support/synth";

const { stack, template } = synthStack({
  profile: "million",
  alarmEmail: "oncall@example.com",
  offlineRegion: "eu-west-1",
});

describe("million profile in eu-west-1", () => {
  it("puts the CloudFront alarms and their topic in us-east-1, with Region=Global", () => {
    expect(stack.region).toBe("eu-west-1");
    expect(stack.edge?.region).toBe("us-east-1");
    const edge = Template.fromStack(stack.edge as NonNullable<typeof stack.edge>);
    const alarms = Object.values(resourcesOf(edge, "AWS::CloudWatch::Alarm")).map(
      (a) => a.Properties as Record<string, unknown>,
    );
    expect(alarms.map((a) => a.MetricName).sort()).toEqual(["5xxErrorRate", "OriginLatency"]);
    for (const a of alarms) {
      expect(a.Dimensions).toEqual(expect.arrayContaining([{ Name: "Region", Value: "Global" }]));
    }
    edge.hasResourceProperties("AWS::SNS::Subscription", { Endpoint: "oncall@example.com" });
    // None in the eu-west-1 stack, where they could never fire.
    const local = Object.values(resourcesOf(template, "AWS::CloudWatch::Alarm"));
    expect(JSON.stringify(local)).not.toContain("AWS/CloudFront");
  });

  it("admits only CloudFront's origin-facing servers at the NLB (the region's own prefix list)", () => {
    const { id, props } = resourceNamed(template, "AWS::EC2::SecurityGroup", "ReadFleetNlbSg");
    const standalone = Object.values(resourcesOf(template, "AWS::EC2::SecurityGroupIngress"))
      .map((r) => r.Properties as Record<string, unknown>)
      .filter((r) => JSON.stringify(r.GroupId).includes(id));
    const rules = [...((props.SecurityGroupIngress as unknown[]) ?? []), ...standalone];
    expect(rules).toEqual([
      expect.objectContaining({ SourcePrefixListId: "pl-4fa04526", FromPort: 80 }),
    ]);
  });

  it("leaves no cdk-nag finding unaccepted in either stack", () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});
