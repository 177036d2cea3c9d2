import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../commons/config.js';
import { graphFactory } from '../commons/graph/graph-factory.js';
import { PageAccess } from '../commons/pages/page-access.js';
import type { AppCredentialsSource, TokenSealer } from '../commons/ports.js';
import { ConversationRepository } from '../commons/store/conversation-repository.js';
import { PageRepository } from '../commons/store/page-repository.js';
import type { AdminDeps } from './admin-api.js';

/** The admin API's collaborators, the same on AWS and locally; only the adapters passed in differ. */
export function adminDeps(
  config: Config,
  doc: DynamoDBDocumentClient,
  sealer: TokenSealer,
  credentials: AppCredentialsSource,
): AdminDeps {
  const pages = new PageRepository(doc, config.tableName);
  // Admin reads must see writes at once: no page cache here.
  const access = new PageAccess(pages, sealer, 0);
  return {
    config,
    pages,
    conversations: new ConversationRepository(doc, config.tableName),
    access,
    sealer,
    graph: graphFactory(config, credentials),
  };
}
