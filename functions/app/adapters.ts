import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DeadLetterQueues } from '#contracts/dead-letters';
import type { ConversationLock } from '#ports/conversation-lock';
import type { EventPublisher } from '#ports/event-publisher';
import type { MediaQueue, MediaStore } from '#ports/media';
import type { AppCredentialsSource, BlobStore, EventQueue, TokenSealer } from '#ports/ports';

/**
 * The outside world, one implementation per runtime: AWS (functions/adapters/aws, built by each
 * handler) or the local stack (functions/adapters/local, local/stack.ts). The composers take only
 * what their entry needs (AdaptersFor), so a Lambda bundle holds no client it does not use.
 */
export interface Adapters {
  /** AWS DynamoDB or dynalite: the same repositories either way. */
  table: DynamoDBDocumentClient;
  sealer: TokenSealer;
  credentials: AppCredentialsSource;
  eventsQueue: EventQueue;
  /** Without a page-commands queue, page commands run inline (tests, tools). */
  commandsQueue?: EventQueue;
  blobs: BlobStore;
  lock: ConversationLock;
  /** Where public events go (SPEC §8): EventBridge on AWS, the local event log and forwarder locally. */
  publisher: EventPublisher;
  /** The queues' dead letters, for the admin API (SQS's on AWS, the local queues' own locally). */
  deadLetters?: DeadLetterQueues;
  /** Attachments to copy (SPEC §10): without one, nothing is copied. */
  mediaQueue?: MediaQueue;
  /** The copies: S3 on AWS, files under DATA_DIR/media locally. */
  media?: MediaStore;
}

interface Needs {
  verifier: 'eventsQueue' | 'credentials' | 'blobs';
  processor: 'table' | 'sealer' | 'credentials' | 'blobs' | 'lock' | 'publisher' | 'mediaQueue' | 'media';
  admin:
    | 'table'
    | 'sealer'
    | 'credentials'
    | 'commandsQueue'
    | 'blobs'
    | 'deadLetters'
    | 'publisher'
    | 'media';
  ops: 'table' | 'sealer' | 'credentials' | 'commandsQueue' | 'publisher';
  pageCommands: 'table' | 'sealer' | 'credentials' | 'publisher';
  media: 'table' | 'publisher' | 'media';
  connectLogin: 'table' | 'sealer' | 'credentials' | 'commandsQueue' | 'publisher';
}

export type AdaptersFor<E extends keyof Needs> = Pick<Adapters, Needs[E]>;
