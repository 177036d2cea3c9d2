import { ContactProfiles } from '#contacts/contact-profiles';
import { ContactRepository } from '#contacts/contact-repository';
import { ConversationRepository } from '#conversations/conversation-repository';
import { createEventsProcessor, type ProcessorDeps } from '#conversations/process-events';
import { QuarantineRepository } from '#conversations/quarantine-repository';
import { ChangeLog } from '#events/change-log';
import { PageAccess } from '#pages/page-access';
import { PageLiveness } from '#pages/page-liveness';
import { PageRepository } from '#pages/page-repository';
import { lambda } from '#runtime/lambda';
import type { AdaptersFor } from './adapters.js';
import type { Config } from './config.js';
import { graphFactory } from './graph.js';

/** The events queue consumer, wrapped for Lambda (and the local stack's queue). */
export function composeProcessor(config: Config, a: AdaptersFor<'processor'>) {
  return lambda(createEventsProcessor(processorDeps(config, a), a.lock));
}

/**
 * The processor's collaborators, the same on AWS and locally; only the adapters passed in differ.
 * `blobs` keeps claim-checked events, the parts of oversize items and the bodies of large quarantined events.
 */
export function processorDeps(config: Config, a: Omit<AdaptersFor<'processor'>, 'lock'>): ProcessorDeps {
  const { table: doc, sealer, credentials, blobs, publisher, mediaQueue, media } = a;
  // With the publisher, a page the processor marks reauth_required publishes its status change at once.
  const pages = new PageRepository(doc, config.tableName, { publisher });
  const access = new PageAccess(pages, sealer, config.pageCacheTtlMs);
  const conversations = new ConversationRepository(doc, config.tableName, blobs);
  const contacts = new ContactRepository(doc, config.tableName);
  const profiles = new ContactProfiles({ contacts, access, graph: graphFactory(config, credentials) });
  const quarantine = new QuarantineRepository(doc, config.tableName, blobs);
  const changes = new ChangeLog(doc, config.tableName);
  const appId = async () => (await credentials.get())?.appId;
  // One per container: its memory is what keeps the liveness writes to one per page per few minutes.
  const liveness = new PageLiveness(doc, config.tableName);
  return {
    access,
    conversations,
    profiles,
    quarantine,
    blobs,
    changes,
    appId,
    publisher,
    liveness,
    mediaQueue,
    // An unsent message's media copies go with it (SPEC §10, §11).
    onMessageDeleted: media
      ? async (item) => void (await media.eraseMessage(item.pageId, item.userId, item.mid))
      : undefined,
  };
}
