import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type AdminDeps, createAdminApi } from '#admin-api/routes';
import { ConversationRepository } from '#conversations/conversation-repository';
import { QuarantineRepository } from '#conversations/quarantine-repository';
import { ChangeLog } from '#events/change-log';
import type { EventPublisher } from '#ports/event-publisher';
import type { AppCredentialsSource, BlobStore, EventQueue, TokenSealer } from '#ports/ports';
import { lambda } from '#runtime/lambda';
import type { AdaptersFor } from './adapters.js';
import type { Config } from './config.js';
import { connectLoginDeps } from './connect-login.js';
import { graphFactory } from './graph.js';
import { pageOpsDeps } from './page-ops.js';

/** `/admin/*`, wrapped for Lambda (and the local stack's gateway). */
export function composeAdmin(config: Config, a: AdaptersFor<'admin'>) {
  const deps = adminDeps(config, a.table, a.sealer, a.credentials, a.commandsQueue, a.blobs, a.publisher);
  return lambda(
    createAdminApi({
      ...deps,
      deadLetters: a.deadLetters,
      media: a.media,
      connectLogin: connectLoginDeps(config, a),
    }),
  );
}

/**
 * The admin API's collaborators, the same on AWS and locally; only the adapters passed in differ.
 * Without a page-commands queue, page commands run inline (tests, tools). `blobs` holds the moved parts
 * of oversize items and large quarantined bodies: without it those read as unavailable. `publisher`:
 * where page status changes go (without one they wait in the pages' outboxes).
 */
export function adminDeps(
  config: Config,
  doc: DynamoDBDocumentClient,
  sealer: TokenSealer,
  credentials: AppCredentialsSource,
  commands?: EventQueue,
  blobs?: BlobStore,
  publisher?: EventPublisher,
): AdminDeps {
  const ops = pageOpsDeps(config, { table: doc, sealer, credentials, commandsQueue: commands, publisher });
  return {
    config,
    pages: ops.pages,
    conversations: new ConversationRepository(doc, config.tableName, blobs),
    quarantine: new QuarantineRepository(doc, config.tableName, blobs),
    // Admin reads must see writes at once: no page cache here.
    access: ops.access,
    sealer,
    // A factory of its own beside the one inside pageOpsDeps (PageOpsDeps does not hand its out): both are
    // graph.ts's graphFactory, each caching one client per app secret.
    graph: graphFactory(config, credentials),
    credentials,
    ops,
    // Sends record their message in the change log and publish it (its echo later finds the same event).
    changes: new ChangeLog(doc, config.tableName),
    publisher,
  };
}
