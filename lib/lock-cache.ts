/**
 * The optional conversation lock (`-c lock=redis`): a VPC whose private subnets reach the internet
 * through NAT (the processor still calls the Graph API), an ElastiCache Serverless Valkey cache in
 * those subnets (TLS only, encrypted at rest), and a security group pair that lets only the
 * processor open port 6379. Without the flag none of this exists.
 */
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { PagewireFunctionProps } from './pagewire-function.js';

export const REDIS_PORT = 6379;

export interface ConversationLockProps {
  natGateways: number;
}

export class ConversationLock extends Construct {
  readonly vpc: ec2.Vpc;
  /** The processor's security group: the only source the cache accepts. */
  readonly clientSecurityGroup: ec2.SecurityGroup;
  readonly cacheSecurityGroup: ec2.SecurityGroup;
  readonly cache: elasticache.CfnServerlessCache;
  /** `rediss://` (TLS, which ElastiCache Serverless requires) for LOCK_REDIS_URL. */
  readonly redisUrl: string;

  constructor(scope: Construct, id: string, props: ConversationLockProps) {
    super(scope, id);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      gatewayEndpoints: {
        // DynamoDB traffic stays off the NAT gateway (free gateway endpoint).
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.ONE_MONTH }),
      ),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    this.clientSecurityGroup = new ec2.SecurityGroup(this, 'ProcessorSecurityGroup', {
      vpc: this.vpc,
      description: 'Pagewire processor: egress to the Graph API, AWS APIs and the lock cache',
      allowAllOutbound: true,
    });
    this.cacheSecurityGroup = new ec2.SecurityGroup(this, 'CacheSecurityGroup', {
      vpc: this.vpc,
      description: 'Pagewire conversation lock: Valkey on 6379 from the processor only',
      allowAllOutbound: false,
    });
    this.cacheSecurityGroup.addIngressRule(
      this.clientSecurityGroup,
      ec2.Port.tcp(REDIS_PORT),
      'Valkey (TLS) from the processor',
    );

    const privateSubnets = this.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    this.cache = new elasticache.CfnServerlessCache(this, 'Cache', {
      engine: 'valkey',
      majorEngineVersion: '8',
      serverlessCacheName: `${Stack.of(this).stackName}-lock`.toLowerCase().slice(0, 40),
      description: 'Pagewire conversation lock',
      subnetIds: privateSubnets.subnetIds,
      securityGroupIds: [this.cacheSecurityGroup.securityGroupId],
      // A lock is a few small keys per conversation in flight: ceilings against a runaway bill, far above
      // what even 1000 concurrent processors take (a lock is about three commands per batch record).
      cacheUsageLimits: {
        dataStorage: { maximum: 1, unit: 'GB' },
        ecpuPerSecond: { maximum: 15_000 },
      },
    });
    this.redisUrl = `rediss://${this.cache.attrEndpointAddress}:${REDIS_PORT}`;
  }

  /** Where a client of the lock runs: the private subnets, in the security group the cache admits. */
  get clientPlacement(): Pick<PagewireFunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'> {
    return {
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.clientSecurityGroup],
    };
  }
}
