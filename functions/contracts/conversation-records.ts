import * as z from 'zod/mini';
import { JsonObject } from './json.js';

/**
 * What Pagewire stores of a conversation and its timeline (key layout in `store/table.ts`). Reads are
 * parsed with these schemas (`recordOf`, store/records.ts; timeline items after item-codec.ts decoded
 * them): `z.object` drops what it does not name, so every stored field is named here, and the
 * round-trip tests (tests/integration/records.test.ts) fail for one that is not.
 */

/**
 * A conversation as stored. A delivery or read can arrive before the conversation's first message
 * (it overtook the echo) and creates the record with just its watermark: then `lastMessageAt` is absent.
 */
export const ConversationRecord = z.object({
  pageId: z.string(),
  userId: z.string(),
  /** The contact's "first last", once the profile is known. */
  name: z.optional(z.string()),
  lastMessageAt: z.optional(z.number()),
  /** Timestamp of the person's last message or postback: opens the 24-hour window. */
  lastInboundAt: z.optional(z.number()),
  deliveredWatermark: z.optional(z.number()),
  readWatermark: z.optional(z.number()),
});
export type ConversationRecord = z.infer<typeof ConversationRecord>;

/** A conversation with a message: what the conversation list shows. */
export const ListedConversation = z.extend(ConversationRecord, { lastMessageAt: z.number() });
export type ListedConversation = z.infer<typeof ListedConversation>;

export const TimelineKind = z.enum(['message', 'postback', 'referral', 'optin', 'handover']);
export type TimelineKind = z.infer<typeof TimelineKind>;
export const OutStatus = z.enum(['sent', 'delivered', 'read', 'failed']);
export type OutStatus = z.infer<typeof OutStatus>;

/** An attachment as stored (conversations/conversation-event.ts `Attachment`). */
export const StoredAttachment = z.object({
  type: z.string(),
  url: z.optional(z.string()),
  title: z.optional(z.string()),
  stickerId: z.optional(z.number()),
  /** Anything else Meta sent in `payload` (templates on echoes, products, …). */
  payload: z.optional(JsonObject),
  /** The copy of `url` kept by Pagewire (SPEC §10), once stored: `url` stays Meta's link. */
  stored: z.optional(z.object({ size: z.number(), contentType: z.string(), sha256: z.string() })),
  /** Where the copy is in the media store (functions/media/media-key.ts). */
  mediaKey: z.optional(z.string()),
  /** Why the copy finally failed (a short reason; never a URL or its query). */
  copyError: z.optional(z.string()),
});

/** One person's reaction; with neither `reaction` nor `emoji` a recorded unreact. */
export const StoredReaction = z.object({
  reaction: z.optional(z.string()),
  emoji: z.optional(z.string()),
  timestamp: z.number(),
});

/** One entry of a conversation's timeline, unique by `mid` for ever. */
export const TimelineItem = z.object({
  pageId: z.string(),
  userId: z.string(),
  mid: z.string(),
  kind: TimelineKind,
  direction: z.enum(['in', 'out']),
  timestamp: z.number(),
  text: z.optional(z.string()),
  attachments: z.optional(z.array(StoredAttachment)),
  quickReplyPayload: z.optional(z.string()),
  replyToMid: z.optional(z.string()),
  /** Postbacks: the button's title and payload. */
  title: z.optional(z.string()),
  payload: z.optional(z.string()),
  /** Referral / optin / handover details. */
  detail: z.optional(JsonObject),
  /** Out messages: the stored status ('sent', 'failed', or 'delivered' when a delivery named the mid). */
  status: z.optional(OutStatus),
  /** Reactions on this message, by the reacting user id. */
  reactions: z.optional(z.record(z.string(), StoredReaction)),
  /** Echoes: the sending app id. */
  appId: z.optional(z.string()),
  standby: z.optional(z.boolean()),
  /**
   * Kept for a message not stored yet, from an edit that overtook it (SPEC §11): the message, when it
   * comes, takes its place with the edit's text.
   */
  placeholder: z.optional(z.boolean()),
  /** Parts of an oversize item were moved to the blob store and cannot be read back now. */
  partsUnavailable: z.optional(z.boolean()),
  /** Unsent (Instagram `is_deleted`): text, attachment URLs and payloads erased (SPEC §11). */
  deleted: z.optional(z.boolean()),
  /** Messenger `message_edits`: the highest `num_edit` applied (the text is that edit's). */
  edits: z.optional(z.number()),
  /** When the edit shown was made (the edit event's timestamp). */
  editedAt: z.optional(z.number()),
});
export type TimelineItem = z.infer<typeof TimelineItem>;
