/**
 * The application's settings, as every feature reads them (app/config.ts parses them from the
 * environment). The Graph API version and the default subscribed fields live here and nowhere else.
 */
export const DEFAULT_GRAPH_API_VERSION = 'v24.0';

export const DEFAULT_SUBSCRIBED_FIELDS = [
  'messages',
  'messaging_postbacks',
  'message_deliveries',
  'message_reads',
  'message_echoes',
  'message_reactions',
  'messaging_referrals',
  'messaging_optins',
  'messaging_handovers',
  'standby',
  // SPEC §11: edits of Messenger messages. Existing pages get it with their next resubscribe (or the
  // health check's repair, which finds it missing). Not `response_feedback`: it adds buttons to messages.
  'message_edits',
] as const;

/**
 * The app-level `instagram` webhook's fields (Messenger API for Instagram): without them subscribed, no
 * Instagram Direct event reaches Pagewire, whatever the pages' subscriptions (the doctor checks them).
 */
export const INSTAGRAM_SUBSCRIBED_FIELDS = [
  'messages',
  'message_reactions',
  'messaging_postbacks',
  'messaging_seen',
  'messaging_referral',
] as const;

export interface Config {
  tableName: string;
  eventsQueueUrl?: string;
  kmsKeyId?: string;
  /** S3 bucket for blobs: claim-checked events and oversize item parts (AWS; locally `DATA_DIR/blobs`). */
  blobBucket?: string;
  /** Secrets Manager secret holding {appId, appSecret, verifyToken} (AWS). */
  appSecretName?: string;
  graphApiUrl: string;
  graphApiVersion: string;
  graphTimeoutMs: number;
  /** Allow replies outside the 24-hour window with the HUMAN_AGENT tag (7 days; needs app review). */
  humanAgentReplies: boolean;
  pageCacheTtlMs: number;
  /** The FIFO queue of page commands (subscribe, disconnect, check), one group per page. */
  pageCommandsQueueUrl?: string;
  /** Pages worked on at once by resubscribe-all and the health check. */
  pageOpsConcurrency: number;
  /** Beyond this many pages, a bulk run is handed to the page-commands queue instead of run in one go. */
  pageOpsFanOutAbove: number;
  /** How long an admin route waits for its page command before answering 202. */
  commandWaitMs: number;
  /** This deployment's webhook URL (WEBHOOK_URL; locally PUBLIC_URL + path), checked by the doctor. */
  webhookUrl?: string;
  /** Where browsers reach this deployment (PUBLIC_BASE_URL; locally PUBLIC_URL or the bound address). */
  publicBaseUrl?: string;
  /** Base of Facebook's login dialog (FB_DIALOG_URL). */
  dialogUrl: string;
}
