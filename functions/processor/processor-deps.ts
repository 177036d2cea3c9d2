import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../commons/config.js';
import { ContactProfiles } from '../commons/contacts/contact-profiles.js';
import { graphFactory } from '../commons/graph/graph-factory.js';
import { PageAccess } from '../commons/pages/page-access.js';
import type { AppCredentialsSource, BlobStore, TokenSealer } from '../commons/ports.js';
import { ContactRepository } from '../commons/store/contact-repository.js';
import { ConversationRepository } from '../commons/store/conversation-repository.js';
import { PageRepository } from '../commons/store/page-repository.js';
import { QuarantineRepository } from '../commons/store/quarantine-repository.js';
import type { ProcessorDeps } from './process-events.js';

/**
 * The processor's collaborators, the same on AWS and locally; only the adapters passed in differ.
 * `blobs` keeps claim-checked events, the parts of oversize items and the bodies of large quarantined events.
 */
export function processorDeps(
  config: Config,
  doc: DynamoDBDocumentClient,
  sealer: TokenSealer,
  credentials: AppCredentialsSource,
  blobs: BlobStore,
): ProcessorDeps {
  const access = new PageAccess(new PageRepository(doc, config.tableName), sealer, config.pageCacheTtlMs);
  const conversations = new ConversationRepository(doc, config.tableName, blobs);
  const contacts = new ContactRepository(doc, config.tableName);
  const profiles = new ContactProfiles({ contacts, access, graph: graphFactory(config, credentials) });
  const quarantine = new QuarantineRepository(doc, config.tableName, blobs);
  return { access, conversations, profiles, quarantine, blobs };
}
