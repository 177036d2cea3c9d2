import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ContactProfiles } from '#contacts/contact-profiles';
import { ContactRepository } from '#contacts/contact-repository';
import { ConversationRepository } from '#conversations/conversation-repository';
import type { GraphClient } from '#graph/graph-client';
import { inlineRunner, queuedRunner } from '#pages/commands';
import { PageAccess } from '#pages/page-access';
import type { PageOpsDeps } from '#pages/page-ops-deps';
import { PageRepository } from '#pages/page-repository';
import { PageOperations } from '#pages/subscriptions';
import type { EventPublisher } from '#ports/event-publisher';
import type { AppCredentialsSource, EventQueue, TokenSealer } from '#ports/ports';
import type { Config } from './config.js';
import { graphFactory } from './graph.js';

export type { PageOpsDeps };

/** The adapters page operations use (the composers' AdaptersFor, or a test's own). */
export interface PageOpsAdapters {
  table: DynamoDBDocumentClient;
  sealer: TokenSealer;
  credentials: AppCredentialsSource;
  /**
   * Page status changes go out through it once stored (SPEC §8). Every composer passes one; without
   * one (tests and tools that do not look at events) they wait in the pages' outboxes.
   */
  publisher?: EventPublisher;
  /** Without one, page commands run inline (tests, tools). */
  commandsQueue?: EventQueue;
}

/**
 * Everything that changes page subscriptions, wired once for the admin API, the ops function and the
 * page-commands consumer. A page that becomes active again gets the contact profiles that waited.
 * Every page write publishes the page's outbox (`page.status_changed`) through `a.publisher`.
 */
export function pageOpsDeps(config: Config, a: PageOpsAdapters): PageOpsDeps {
  const { table: doc, sealer, credentials, commandsQueue: commands } = a;
  const pages = new PageRepository(doc, config.tableName, { publisher: a.publisher });
  const access = new PageAccess(pages, sealer, 0);
  const graph = graphFactory(config, credentials);
  const conversations = new ConversationRepository(doc, config.tableName);
  const profiles = new ContactProfiles({
    contacts: new ContactRepository(doc, config.tableName),
    access,
    graph,
  });
  const operations = operationsFactory({
    pages,
    access,
    credentials,
    graph,
    onHealthy: async (page, deadline) => void (await profiles.refreshPending(page, conversations, deadline)),
  });
  return {
    pages,
    access,
    bulk: {
      pages,
      operations,
      commands,
      concurrency: config.pageOpsConcurrency,
      fanOutAbove: config.pageOpsFanOutAbove,
    },
    runCommand: commands ? queuedRunner(commands, pages, config.commandWaitMs) : inlineRunner(operations),
  };
}

interface OperationsFactoryDeps {
  pages: PageRepository;
  access: PageAccess;
  credentials: AppCredentialsSource;
  graph: () => Promise<GraphClient | undefined>;
  onHealthy?: ConstructorParameters<typeof PageOperations>[0]['onHealthy'];
}

/** PageOperations for the current app credentials (the app id decides which subscription is ours). */
function operationsFactory(deps: OperationsFactoryDeps) {
  return async (): Promise<PageOperations> => {
    const [credentials, graph] = await Promise.all([deps.credentials.get(), deps.graph()]);
    if (!credentials || !graph) throw new Error('the Facebook app credentials are not configured');
    return new PageOperations({ ...deps, graph, appId: credentials.appId });
  };
}
