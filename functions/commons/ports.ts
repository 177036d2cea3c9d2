import type { QueueMessage } from './webhook/queued-event.js';

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
