/**
 * AWS list prices used by bench/cost.ts, us-east-1, on-demand, before free tiers. Each with the page it
 * comes from and when it was read. Prices change: check the page before quoting a figure.
 */
export interface Price {
  usd: number;
  per: string;
  source: string;
  asOf: string;
  note?: string;
}

export const PRICES = {
  apiGatewayHttpRequest: {
    usd: 1.0 / 1e6,
    per: 'HTTP API request (first 300 M/month; metered in 512 KB increments)',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    asOf: '2026-05',
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    per: 'GB-second, arm64 (first 7.5 B GB-s/month); INIT is billed too since 2025-08-01',
    source: 'https://aws.amazon.com/lambda/pricing/',
    asOf: '2026-05',
  },
  lambdaRequest: {
    usd: 0.2 / 1e6,
    per: 'Lambda request',
    source: 'https://aws.amazon.com/lambda/pricing/',
    asOf: '2026-05',
  },
  sqsFifoRequest: {
    usd: 0.5 / 1e6,
    per: 'SQS FIFO request; each 64 KB chunk of a payload is billed as one request',
    source: 'https://aws.amazon.com/sqs/pricing/',
    asOf: '2026-05',
  },
  dynamoWriteRequestUnit: {
    usd: 0.625 / 1e6,
    per: 'DynamoDB on-demand write request unit (1 KB; each index write counts)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    asOf: '2026-05',
    note: 'after the November 2024 on-demand price cut',
  },
  dynamoReadRequestUnit: {
    usd: 0.125 / 1e6,
    per: 'DynamoDB on-demand read request unit (strongly consistent read up to 4 KB; eventual = ½)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    asOf: '2026-05',
  },
  kmsRequest: {
    usd: 0.03 / 1e4,
    per: 'KMS symmetric request (Decrypt, Encrypt, GenerateDataKey)',
    source: 'https://aws.amazon.com/kms/pricing/',
    asOf: '2026-05',
  },
  secretsManagerApiCall: {
    usd: 0.05 / 1e4,
    per: 'Secrets Manager API call (GetSecretValue)',
    source: 'https://aws.amazon.com/secrets-manager/pricing/',
    asOf: '2026-05',
  },
  eventBridgeCustomEvent: {
    usd: 1.0 / 1e6,
    per: 'EventBridge custom event published (PutEvents); each 64 KB chunk of an entry is billed as one event',
    source: 'https://aws.amazon.com/eventbridge/pricing/',
    asOf: '2026-12',
    note: 'delivery to targets is free except API destinations ($0.20 per million, only with forwardUrl)',
  },
  eventBridgeArchiveGb: {
    usd: 0.1,
    per: 'GB of events archived (archive processing; storage billed apart, eventBridgeArchiveGbMonth)',
    source: 'https://aws.amazon.com/eventbridge/pricing/',
    asOf: '2026-12',
  },
  eventBridgeArchiveGbMonth: {
    usd: 0.023,
    per: 'GB-month of archived events stored',
    source: 'https://aws.amazon.com/eventbridge/pricing/',
    asOf: '2026-12',
  },
  cloudWatchLogsIngestedGb: {
    usd: 0.5,
    per: 'GB of CloudWatch Logs ingested (Standard class)',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    asOf: '2026-05',
  },
  xrayTraceRecorded: {
    usd: 5.0 / 1e6,
    per: 'X-Ray trace recorded (after 100 k free/month)',
    source: 'https://aws.amazon.com/xray/pricing/',
    asOf: '2026-05',
  },
  elastiCacheServerlessValkeyEcpu: {
    usd: 0.0023 / 1e6,
    per: 'ElastiCache Serverless for Valkey ECPU (a simple GET/SET of ≤ 1 KB = 1 ECPU)',
    source: 'https://aws.amazon.com/elasticache/pricing/',
    asOf: '2026-05',
    note: 'Redis OSS engine: $0.0034 per million ECPUs',
  },
  elastiCacheServerlessValkeyGbHour: {
    usd: 0.084,
    per: 'GB-hour of data stored, ElastiCache Serverless for Valkey (100 MB minimum metered)',
    source: 'https://aws.amazon.com/elasticache/pricing/',
    asOf: '2026-05',
  },
} satisfies Record<string, Price>;

/**
 * What a call costs in Lambda time on AWS (the local fakes answer in well under a millisecond, so the
 * billed duration adds these per call). Assumptions, not measurements: typical same-region medians.
 */
export const LATENCY_MS = {
  dynamo: 5,
  sqsSendBatch: 12,
  kmsDecrypt: 8,
  graphCall: 150,
  redisCall: 1,
  secretsManager: 15,
  eventBridgePutEvents: 20,
};

/** Deployment facts the cost uses (lib/pagewire-function.ts, lib/processing.ts). */
export const DEPLOYMENT = {
  memoryMb: 512,
  /** START, END and REPORT lines Lambda writes per invocation (text format), plus the X-Ray line. */
  platformLogBytesPerInvocation: 420,
  /** Secrets Manager cache (functions/adapters/aws/secrets-credentials.ts). */
  secretMaxAgeSeconds: 300,
  /** For the time-based costs (secret reads): a steady rate of one million inbound messages a month. */
  messagesPerMonth: 1_000_000,
  /** X-Ray's default sampling rule: the first request each second, then 5 %. */
  xrayReservoirPerSecond: 1,
  xrayRate: 0.05,
  /** Days the bus archive keeps events (lib/events.ts, context `eventArchiveDays` default). */
  eventArchiveDays: 14,
};
