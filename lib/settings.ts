/**
 * Deployment settings from CDK context (`cdk deploy -c key=value`, SPEC §7), validated up front so a
 * typo fails the synth with a message instead of deploying something else.
 */
import { DEFAULT_GRAPH_API_VERSION } from '#contracts/config';

export interface PagewireSettings {
  /** `-c lock=redis`: the processor takes an ElastiCache Serverless (Valkey) conversation lock, in a VPC. */
  lock: 'none' | 'redis';
  /** NAT gateways of the lock's VPC (the processor reaches the Graph API through them). */
  natGateways: number;
  /** Alarm notifications by e-mail (SNS subscription, confirmed by the recipient). */
  alarmEmail?: string;
  graphApiVersion: string;
  /** EventBridge schedule of the subscription health check (`rate(…)` or `cron(…)`). */
  healthCheckSchedule: string;
  /** Upper bound of processor instances working the events queue at once (2–1000). */
  processorMaxConcurrency: number;
  /** `HUMAN_AGENT_REPLIES`: replies 24 h–7 days after the person's last message (needs Meta's app review). */
  humanAgentReplies: boolean;
  /** Meta's webhook POSTs: steady requests a second and burst, on that route alone (lib/ingest.ts). */
  webhookRateLimit: number;
  webhookBurstLimit: number;
  /** Days the event bus archive keeps public events for `aws events start-replay` (SPEC §8). */
  eventArchiveDays: number;
  /** Every public event's detail is POSTed here (an EventBridge API destination), when set. */
  forwardUrl?: string;
  /** Days the media bucket keeps a copy of an attachment (SPEC §10). */
  mediaRetentionDays: number;
}

/** API Gateway's default account limits per Region: a route's own limit cannot usefully exceed them. */
const ACCOUNT_RATE_LIMIT = 10_000;
const ACCOUNT_BURST_LIMIT = 5_000;

export const DEFAULT_SETTINGS: PagewireSettings = {
  lock: 'none',
  natGateways: 1,
  graphApiVersion: DEFAULT_GRAPH_API_VERSION,
  healthCheckSchedule: 'rate(1 hour)',
  processorMaxConcurrency: 50,
  humanAgentReplies: false,
  // Meta batches up to 1,000 updates into one POST and retries a refused one (429) for hours: 1,000
  // POSTs a second with bursts of 2,000 leaves room for any page portfolio's peaks, well inside the
  // account limits every API of the account shares.
  webhookRateLimit: 1000,
  webhookBurstLimit: 2000,
  eventArchiveDays: 14,
  // A year: conversations are read back for months (disputes, follow-ups); set less to hold people's
  // files for a shorter time, more for an archive. Messages keep `stored` after expiry; the link 404s.
  mediaRetentionDays: 365,
};

/** The context keys read, so the tests and the README name the same ones. */
export const CONTEXT_KEYS = [
  'lock',
  'natGateways',
  'alarmEmail',
  'graphApiVersion',
  'healthCheckSchedule',
  'processorMaxConcurrency',
  'humanAgentReplies',
  'webhookRateLimit',
  'webhookBurstLimit',
  'eventArchiveDays',
  'forwardUrl',
  'mediaRetentionDays',
] as const;

type ContextReader = (key: string) => unknown;

export class SettingsError extends Error {}

export function settingsFromContext(read: ContextReader): PagewireSettings {
  const text = (key: string): string | undefined => {
    const value = read(key);
    if (value === undefined || value === null) return undefined;
    const s = String(value).trim();
    return s === '' ? undefined : s;
  };

  const lock = text('lock')?.toLowerCase() ?? DEFAULT_SETTINGS.lock;
  if (lock !== 'none' && lock !== 'redis') {
    throw new SettingsError(`context lock=${lock}: use lock=redis (or leave it unset for no lock)`);
  }

  const alarmEmail = text('alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    throw new SettingsError(`context alarmEmail=${alarmEmail} is not an e-mail address`);
  }

  const graphApiVersion = text('graphApiVersion') ?? DEFAULT_SETTINGS.graphApiVersion;
  if (!/^v\d+\.\d+$/.test(graphApiVersion)) {
    throw new SettingsError(`context graphApiVersion=${graphApiVersion}: expected a version like v24.0`);
  }

  const healthCheckSchedule = text('healthCheckSchedule') ?? DEFAULT_SETTINGS.healthCheckSchedule;
  if (!/^(rate|cron)\(.+\)$/.test(healthCheckSchedule)) {
    throw new SettingsError(
      `context healthCheckSchedule=${healthCheckSchedule}: expected an EventBridge expression such as rate(1 hour) or cron(0 * * * ? *)`,
    );
  }

  return {
    lock,
    natGateways: integer(text('natGateways'), 'natGateways', DEFAULT_SETTINGS.natGateways, 1, 3),
    alarmEmail,
    graphApiVersion,
    healthCheckSchedule,
    processorMaxConcurrency: integer(
      text('processorMaxConcurrency'),
      'processorMaxConcurrency',
      DEFAULT_SETTINGS.processorMaxConcurrency,
      2,
      1000,
    ),
    humanAgentReplies: boolean(
      text('humanAgentReplies'),
      'humanAgentReplies',
      DEFAULT_SETTINGS.humanAgentReplies,
    ),
    webhookRateLimit: integer(
      text('webhookRateLimit'),
      'webhookRateLimit',
      DEFAULT_SETTINGS.webhookRateLimit,
      1,
      ACCOUNT_RATE_LIMIT,
    ),
    webhookBurstLimit: integer(
      text('webhookBurstLimit'),
      'webhookBurstLimit',
      DEFAULT_SETTINGS.webhookBurstLimit,
      1,
      ACCOUNT_BURST_LIMIT,
    ),
    eventArchiveDays: integer(
      text('eventArchiveDays'),
      'eventArchiveDays',
      DEFAULT_SETTINGS.eventArchiveDays,
      1,
      MAX_ARCHIVE_DAYS,
    ),
    forwardUrl: httpsUrl(text('forwardUrl'), 'forwardUrl'),
    mediaRetentionDays: integer(
      text('mediaRetentionDays'),
      'mediaRetentionDays',
      DEFAULT_SETTINGS.mediaRetentionDays,
      1,
      MAX_ARCHIVE_DAYS,
    ),
  };
}

function integer(value: string | undefined, key: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SettingsError(`context ${key}=${value}: expected a whole number from ${min} to ${max}`);
  }
  return n;
}

/** An archive keeps events for a number of days, or for ever (0, not offered: replays need a window). */
const MAX_ARCHIVE_DAYS = 3650;

/** API destinations call HTTPS endpoints only. */
function httpsUrl(value: string | undefined, key: string): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingsError(`context ${key}=${value} is not a URL: expected https://…`);
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') {
    throw new SettingsError(`context ${key}=${value}: expected an https:// URL without user or password`);
  }
  return value;
}

function boolean(value: string | undefined, key: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new SettingsError(`context ${key}=${value}: expected true or false`);
}
