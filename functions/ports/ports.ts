import type { QueueMessage } from '#contracts/queue';

/** A FIFO queue. Resolves only when every message is durably accepted; rejects otherwise. */
export interface EventQueue {
  send(messages: QueueMessage[]): Promise<void>;
}

/**
 * Seals page tokens before they touch storage. The encryption context binds a sealed token to its
 * page: a token sealed for page A must not open as page B (KMS on AWS, an AES-256-GCM keyring locally).
 */
export interface TokenSealer {
  seal(pageId: string, token: string): Promise<string>;
  unseal(pageId: string, sealed: string): Promise<string>;
}

/** The Facebook app's credentials. `undefined` when none are configured (then POSTs fail closed). */
export interface AppCredentials {
  appId: string;
  appSecret: string;
  verifyToken: string;
}

export interface AppCredentialsSource {
  get(): Promise<AppCredentials | undefined>;
}

/**
 * Only a complete set counts: without an app secret webhooks fail closed, and without the app id
 * Pagewire could not tell its own subscription from another app's.
 */
export function completeCredentials(
  c: Partial<Record<keyof AppCredentials, unknown>>,
): AppCredentials | undefined {
  if (typeof c.appSecret !== 'string' || c.appSecret === '') return undefined;
  if (typeof c.appId !== 'string' || c.appId === '') return undefined;
  return {
    appId: c.appId,
    appSecret: c.appSecret,
    verifyToken: typeof c.verifyToken === 'string' ? c.verifyToken : '',
  };
}

/**
 * Bytes kept beside the table and the queues: webhook events too large for a queue message (claim
 * checks) and parts of stored items too large for DynamoDB. S3 on AWS, files under `DATA_DIR` locally.
 * Keys are `/`-separated segments of `[A-Za-z0-9._=-]`, none of them `.` or `..`.
 */
export interface BlobStore {
  /** Stores `body` under `key`. Writing the same key again with the same bytes is harmless. */
  put(key: string, body: Buffer): Promise<void>;
  /** The bytes stored under `key`, or undefined when there are none. */
  get(key: string): Promise<Buffer | undefined>;
}

const BLOB_KEY = /^[A-Za-z0-9._=-]+(\/[A-Za-z0-9._=-]+)*$/;

/** Throws unless `key` is a blob key (see BlobStore): adapters never build a path from anything else. */
export function checkBlobKey(key: string): string {
  if (key.length > 512 || !BLOB_KEY.test(key) || key.split('/').some((s) => s === '.' || s === '..')) {
    throw new Error(`not a blob key: ${JSON.stringify(key.slice(0, 80))}`);
  }
  return key;
}
