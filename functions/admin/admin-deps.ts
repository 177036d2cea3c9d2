import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../commons/config.js';
import { graphFactory } from '../commons/graph/graph-factory.js';
import { pageOpsDeps } from '../commons/pages/page-ops-deps.js';
import type { AppCredentialsSource, BlobStore, EventQueue, TokenSealer } from '../commons/ports.js';
import { ConversationRepository } from '../commons/store/conversation-repository.js';
import { QuarantineRepository } from '../commons/store/quarantine-repository.js';
import type { AdminDeps } from './admin-api.js';

/**
 * The admin API's collaborators, the same on AWS and locally; only the adapters passed in differ.
 * Without a page-commands queue, page commands run inline (tests, tools). `blobs` holds the moved parts
 * of oversize items and large quarantined bodies: without it those read as unavailable.
 */
export function adminDeps(
  config: Config,
  doc: DynamoDBDocumentClient,
  sealer: TokenSealer,
  credentials: AppCredentialsSource,
  commands?: EventQueue,
  blobs?: BlobStore,
): AdminDeps {
  const ops = pageOpsDeps(config, doc, sealer, credentials, commands);
  return {
    config,
    pages: ops.pages,
    conversations: new ConversationRepository(doc, config.tableName, blobs),
    quarantine: new QuarantineRepository(doc, config.tableName, blobs),
    // Admin reads must see writes at once: no page cache here.
    access: ops.access,
    sealer,
    graph: graphFactory(config, credentials),
    ops,
  };
}
