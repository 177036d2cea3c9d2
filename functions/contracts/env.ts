import * as z from 'zod/mini';

/*
 * Each function's environment, parsed once at start-up (SPEC §3). A missing or malformed variable
 * stops the function before its first event, with a message naming the variable and never its value
 * (some of them carry credentials: LOCK_REDIS_URL). zod/mini: classic zod costs ~20 ms of cold start.
 */

const set = z.string({ error: 'is not set' }).check(z.trim(), z.minLength(1, 'is not set'));

const positiveInt = z.pipe(
  z.string().check(z.trim(), z.regex(/^[1-9][0-9]*$/, 'must be a positive integer')),
  z.transform(Number),
);

const flag = z.pipe(
  z.string().check(z.trim(), z.regex(/^(true|false|1|0)$/i, 'must be true or false')),
  z.transform((v) => v.toLowerCase() === 'true' || v === '1'),
);

const httpUrl = z
  .string()
  .check(z.trim(), z.regex(/^https?:\/\/[^\s/]+/i, 'must be an http:// or https:// URL'));

/** `redis://` or `rediss://` (TLS); its credentials never reach an error message. */
const redisUrl = z
  .string()
  .check(z.trim(), z.regex(/^rediss?:\/\/[^\s/]+/i, 'must be a redis:// or rediss:// URL (value not shown)'));

const graphVersion = z.string().check(z.trim(), z.regex(/^v\d+(\.\d+)?$/, 'must look like v24.0'));

const graph = {
  GRAPH_API_URL: z.optional(httpUrl),
  GRAPH_API_VERSION: z.optional(graphVersion),
  GRAPH_TIMEOUT_MS: z.optional(positiveInt),
};

/** MEDIA_HOSTS: comma-separated hosts (`host`, `host:port` or `*.suffix`) attachments may come from. */
const hostList = z
  .string()
  .check(
    z.trim(),
    z.regex(
      /^(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?(\s*,\s*(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?)*$/,
      'must be hosts separated by commas (host, host:port or *.suffix)',
    ),
  );

/** What the app's tuning reads; every variable has a default (app/config.ts). */
export const ConfigEnv = z.object({
  TABLE_NAME: z.optional(set),
  EVENTS_QUEUE_URL: z.optional(set),
  KMS_KEY_ID: z.optional(set),
  BLOB_BUCKET: z.optional(set),
  APP_SECRET_NAME: z.optional(set),
  ...graph,
  HUMAN_AGENT_REPLIES: z.optional(flag),
  PAGE_CACHE_TTL_MS: z.optional(positiveInt),
  PAGE_COMMANDS_QUEUE_URL: z.optional(set),
  PAGE_OPS_CONCURRENCY: z.optional(positiveInt),
  PAGE_OPS_FAN_OUT_ABOVE: z.optional(positiveInt),
  COMMAND_WAIT_MS: z.optional(positiveInt),
  /** This deployment's public webhook URL, which the doctor expects Meta to call (SPEC §9). */
  WEBHOOK_URL: z.optional(httpUrl),
  /** Where browsers reach this deployment: connect links and Facebook Login's redirect_uri (SPEC §12). */
  PUBLIC_BASE_URL: z.optional(httpUrl),
  /** Base of Facebook's login dialog (default https://www.facebook.com; the sandbox serves its own). */
  FB_DIALOG_URL: z.optional(httpUrl),
});
export type ConfigEnv = z.infer<typeof ConfigEnv>;

export const VerifierEnv = z.object({ EVENTS_QUEUE_URL: set, APP_SECRET_NAME: set, BLOB_BUCKET: set });
export type VerifierEnv = z.infer<typeof VerifierEnv>;

export const PageCommandsEnv = z.object({
  TABLE_NAME: set,
  KMS_KEY_ID: set,
  APP_SECRET_NAME: set,
  /** The EventBridge bus public events go to (SPEC §8); every function that stores a change publishes. */
  EVENT_BUS_NAME: set,
  ...graph,
});
export type PageCommandsEnv = z.infer<typeof PageCommandsEnv>;

export const ProcessorEnv = z.object({
  ...PageCommandsEnv.shape,
  BLOB_BUCKET: set,
  PAGE_CACHE_TTL_MS: z.optional(positiveInt),
  LOCK_REDIS_URL: z.optional(redisUrl),
  /** How long a conversation lock lives (keep it above the processor's timeout). */
  LOCK_TTL_MS: z.optional(positiveInt),
  /** Where attachments of stored messages are queued for a copy (SPEC §10); unset: none are copied. */
  MEDIA_QUEUE_URL: z.optional(set),
  /** The media bucket: an unsent message's copies are erased from it (SPEC §10, §11). */
  MEDIA_BUCKET: z.optional(set),
});
export type ProcessorEnv = z.infer<typeof ProcessorEnv>;

export const OpsEnv = z.object({
  ...PageCommandsEnv.shape,
  PAGE_COMMANDS_QUEUE_URL: set,
  PAGE_OPS_CONCURRENCY: z.optional(positiveInt),
  PAGE_OPS_FAN_OUT_ABOVE: z.optional(positiveInt),
  /** The stack's webhook URL (API URL + path), which the doctor expects Meta to call (SPEC §9). */
  WEBHOOK_URL: z.optional(httpUrl),
});
export type OpsEnv = z.infer<typeof OpsEnv>;

export const AdminEnv = z.object({
  ...OpsEnv.shape,
  BLOB_BUCKET: set,
  /** The media bucket: messages show presigned links to the copies of their attachments. */
  MEDIA_BUCKET: z.optional(set),
  HUMAN_AGENT_REPLIES: z.optional(flag),
  COMMAND_WAIT_MS: z.optional(positiveInt),
  /** The base of the connect links it makes (SPEC §12): the API's URL. */
  PUBLIC_BASE_URL: z.optional(httpUrl),
});
export type AdminEnv = z.infer<typeof AdminEnv>;

/** The media worker (SPEC §10): copies attachments into MEDIA_BUCKET and publishes the outcome. */
export const MediaEnv = z.object({
  TABLE_NAME: set,
  EVENT_BUS_NAME: set,
  MEDIA_BUCKET: set,
  MEDIA_HOSTS: z.optional(hostList),
});
export type MediaEnv = z.infer<typeof MediaEnv>;
/** The public Facebook Login routes' function (SPEC §12): connects pages as the admin function does. */
export const ConnectLoginEnv = z.object({
  ...PageCommandsEnv.shape,
  PAGE_COMMANDS_QUEUE_URL: set,
  COMMAND_WAIT_MS: z.optional(positiveInt),
  PUBLIC_BASE_URL: httpUrl,
  FB_DIALOG_URL: z.optional(httpUrl),
});
export type ConnectLoginEnv = z.infer<typeof ConnectLoginEnv>;

/** The local stack's own settings (SPEC §3), beside the functions' (read by app/config.ts). */
export const LocalEnv = z.object({
  PORT: z.optional(z.pipe(z.string().check(z.regex(/^\d+$/, 'must be a port number')), z.transform(Number))),
  HOST: z.optional(set),
  DATA_DIR: z.optional(set),
  MEMORY: z.optional(flag),
  ADMIN_TOKEN: z.optional(set),
  FB_APP_ID: z.optional(set),
  FB_APP_SECRET: z.optional(set),
  FB_VERIFY_TOKEN: z.optional(set),
  LOCAL_VISIBILITY_TIMEOUT_MS: z.optional(positiveInt),
  HEALTH_CHECK_INTERVAL_MS: z.optional(positiveInt),
  LOCK_REDIS_URL: z.optional(redisUrl),
  LOCK_TTL_MS: z.optional(positiveInt),
  /** Where every public event is POSTed (SPEC §8); unset: events only go to the tail log. */
  FORWARD_URL: z.optional(httpUrl),
  /** Sent as `x-pagewire-key` with every forwarded event; never printed. */
  FORWARD_API_KEY: z.optional(set),
  /** The stack's public base URL (a tunnel); its webhook URL is this + /webhooks/facebook. */
  PUBLIC_URL: z.optional(httpUrl),
  /** Hosts beyond Meta's CDN attachments may be copied from (SPEC §10); the sandbox adds its own CDN. */
  MEDIA_HOSTS: z.optional(hostList),
});
export type LocalEnv = z.infer<typeof LocalEnv>;

/** The environment is wrong; the message names each variable and what is wrong, never a value. */
export class EnvError extends Error {
  override readonly name = 'EnvError';

  constructor(readonly problems: string[]) {
    super(`environment: ${problems.join('; ')}`);
  }
}

/**
 * The function's settings from `env`, or an EnvError naming every bad variable. A variable set to
 * the empty string counts as not set (`FOO= npm start`).
 */
export function readEnv<S extends z.ZodMiniType<unknown, Record<string, unknown>>>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const result = schema.safeParse(given);
  if (result.success) return result.data;
  throw new EnvError(result.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`));
}
