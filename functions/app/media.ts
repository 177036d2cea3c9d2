import { ConversationRepository } from '#conversations/conversation-repository';
import { ChangeLog } from '#events/change-log';
import { createMediaWorker, type MediaCopierDeps } from '#media/copy-media';
import { hostPolicy } from '#media/host-policy';
import { MediaRepository } from '#media/media-repository';
import { lambda } from '#runtime/lambda';
import type { AdaptersFor } from './adapters.js';
import type { Config } from './config.js';

export interface MediaSettings {
  /** MEDIA_HOSTS: hosts beyond Meta's CDN attachments may be fetched from (comma-separated). */
  mediaHosts?: string;
}

/** The media queue consumer (SPEC §10), wrapped for Lambda (and the local stack's queue). */
export function composeMedia(config: Config, a: AdaptersFor<'media'>, settings: MediaSettings = {}) {
  return lambda(createMediaWorker(mediaDeps(config, a, settings)));
}

/** The media worker's collaborators, the same on AWS and locally. */
export function mediaDeps(
  config: Config,
  a: AdaptersFor<'media'>,
  settings: MediaSettings,
  overrides: Partial<MediaCopierDeps> = {},
): MediaCopierDeps {
  if (!a.media) throw new Error('the media worker needs a media store');
  return {
    items: new ConversationRepository(a.table, config.tableName),
    media: new MediaRepository(a.table, config.tableName),
    store: a.media,
    changes: new ChangeLog(a.table, config.tableName),
    publisher: a.publisher,
    policy: hostPolicy(settings.mediaHosts),
    ...overrides,
  };
}
