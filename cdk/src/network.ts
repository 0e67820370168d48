import { RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { Settings } from "./settings";

/**
 * The VPC: public subnets for the NLB and the NAT gateways, private subnets
 * with egress for tasks and Lambdas (they call AWS APIs: Secrets Manager,
 * GetBootstrapBrokers, ECR, CloudWatch), isolated subnets for the data stores.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, settings: Settings) {
    super(scope, id);
    const { sizing } = settings;
    this.vpc = new ec2.Vpc(this, "Vpc", {
      ipAddresses: ec2.IpAddresses.cidr("10.40.0.0/16"),
      maxAzs: sizing.maxAzs,
      natGateways: sizing.natGateways,
      subnetConfiguration: [
        { name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: "app", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: "data", subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      // ECR image layers come from S3: keep that traffic off the NAT gateways.
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      restrictDefaultSecurityGroup: true,
    });
    const flowLogGroup = new logs.LogGroup(this, "FlowLogs", {
      retention: settings.logRetentionDays,
      removalPolicy: settings.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog("FlowLog", {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
  }

  get appSubnets(): ec2.SubnetSelection {
    return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  }

  get dataSubnets(): ec2.SubnetSelection {
    return { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  }

  /** A security group that allows nothing until a rule names the peer. */
  securityGroup(scope: Construct, id: string, description: string): ec2.SecurityGroup {
    return new ec2.SecurityGroup(scope, id, {
      vpc: this.vpc,
      description,
      allowAllOutbound: false,
    });
  }
}
