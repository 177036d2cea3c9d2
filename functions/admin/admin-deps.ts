import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../commons/config.js';
import { graphFactory } from '../commons/graph/graph-factory.js';
import { pageOpsDeps } from '../commons/pages/page-ops-deps.js';
import type { AppCredentialsSource, EventQueue, TokenSealer } from '../commons/ports.js';
import { ConversationRepository } from '../commons/store/conversation-repository.js';
import type { AdminDeps } from './admin-api.js';

/**
 * The admin API's collaborators, the same on AWS and locally; only the adapters passed in differ.
 * Without a page-commands queue, page commands run inline (tests, tools).
 */
export function adminDeps(
  config: Config,
  doc: DynamoDBDocumentClient,
  sealer: TokenSealer,
  credentials: AppCredentialsSource,
  commands?: EventQueue,
): AdminDeps {
  const ops = pageOpsDeps(config, doc, sealer, credentials, commands);
  return {
    config,
    pages: ops.pages,
    conversations: new ConversationRepository(doc, config.tableName),
    // Admin reads must see writes at once: no page cache here.
    access: ops.access,
    sealer,
    graph: graphFactory(config, credentials),
    ops,
  };
}
