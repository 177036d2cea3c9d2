import type { ContactProfiles } from '#contacts/contact-profiles';
import type { TimelineItem } from '#contracts/conversation-records';
import type { PageRecord } from '#contracts/page-record';
import type { PublicConversationEvent } from '#contracts/public-event';
import type { QueuedEvent } from '#contracts/queue';
import type { Change, ChangeLog } from '#events/change-log';
import type { PageAccess } from '#pages/page-access';
import type { Deadline } from '#runtime/deadline';
import { count, logger } from '#runtime/observability';
import { PoisonError } from '#runtime/poison-error';
import {
  contactChange,
  contentKeysOf,
  deletedChange,
  deletedData,
  editChange,
  itemChange,
  reactionChange,
  statusChange,
} from './changes.js';
import type { ConversationEvent } from './conversation-event.js';
import type { ConversationRepository, TouchResult } from './conversation-repository.js';
import { normaliseEvent } from './normalise-event.js';

export interface ApplyEventDeps {
  access: PageAccess;
  conversations: ConversationRepository;
  profiles: ContactProfiles;
  /** Where each stored change becomes its public event (SPEC §8), numbered per conversation. */
  changes: ChangeLog;
  /** This app's id: an echo carrying it was sent through Pagewire (`data.source`). */
  appId(): Promise<string | undefined>;
  /**
   * Called after a message was unsent and its record erased (SPEC §11): the place to erase its media
   * copies (SPEC §10). Its failure fails the event, so the redelivery calls it again.
   */
  onMessageDeleted?: (item: TimelineItem, deadline: Deadline) => Promise<void>;
}

type Event<K extends ConversationEvent['kind']> = Extract<ConversationEvent, { kind: K }>;

/**
 * What each event kind does to the store (SPEC §6). Every write is idempotent or conditional on
 * the event's id, so a redelivered event changes nothing the first delivery did not.
 */
export function createEventApplier(deps: ApplyEventDeps) {
  const { conversations } = deps;

  /**
   * The public events of one applied webhook event, recorded in the change log in the order they were
   * stored. `known`: the change may have been stored by an earlier delivery, so its event may exist.
   */
  type Recorded = PublicConversationEvent[];
  async function note(out: Recorded, change: Change, known: boolean, page: PageRecord): Promise<void> {
    out.push(await deps.changes.record(onChannel(change, page), { known }));
  }

  async function store(
    out: Recorded,
    page: PageRecord,
    item: TimelineItem,
    inbound: boolean,
    name?: string,
  ): Promise<TouchResult & { duplicate: boolean }> {
    // Checked, encoded and fitted first (oversize parts to the blob store): an item the store cannot
    // hold fails here, before the conversation is touched for a message it would never show.
    const prepared = await conversations.prepareItem(item);
    // The conversation next: its update is idempotent, so a crash between the two writes is repaired
    // by the redelivery, whose conditional put then stores the item exactly once.
    const touched = await conversations.touch(item.pageId, item.userId, {
      timestamp: item.timestamp,
      inbound,
      name,
    });
    const outcome = await conversations.putPrepared(prepared);
    count(outcome === 'stored' ? 'EventsStored' : 'DuplicatesDropped');
    const duplicate = outcome === 'duplicate';
    // A duplicate may have found a placeholder an unsend or an edit left (they can overtake their
    // message): what is stored is the truth, and an unsent message's words are never published.
    let stored = duplicate && item.kind === 'message' ? await storedItem(item) : item;
    if (stored.placeholder && !stored.deleted) stored = await fillPlaceholder(item, stored);
    if (stored.deleted) return { ...touched, duplicate };
    // Only an echo's source needs this app's id (a cached secret read, but not for every inbound message).
    const appId = stored.direction === 'out' ? await deps.appId() : undefined;
    await note(out, itemChange(stored, appId), duplicate, page);
    return { ...touched, duplicate };
  }

  /**
   * The message an edit overtook takes the edit's placeholder: everything it brings (attachments, reply,
   * quick reply, referral, its own time), with the edit's text and count. A placeholder already replaced
   * (a concurrent delivery) is read back as that delivery stored it.
   */
  async function fillPlaceholder(item: TimelineItem, placeholder: TimelineItem): Promise<TimelineItem> {
    const { text, edits, editedAt } = placeholder;
    const merged: TimelineItem = { ...item, text, edits, editedAt };
    const replaced = await conversations.replacePlaceholder(await conversations.prepareItem(merged));
    return replaced ? merged : storedItem(item);
  }

  /**
   * Contacts whose name this container fetched but has not yet written with its contact.updated event
   * (a failure came between): their name must not ride on a touch, or it would be stored eventless.
   */
  const unnamed = new Set<string>();

  /**
   * An inbound event: stored first, the contact's profile fetched after, so a slow or failing Graph
   * API can delay a name but never the message. A known contact's name rides on the same write; a
   * conversation the write finds named needs nothing more (no contact read); only a nameless one asks
   * for the profile, without reading the contact record when this is the contact's first inbound event.
   */
  async function storeInbound(
    out: Recorded,
    page: PageRecord,
    item: TimelineItem,
    deadline: Deadline,
  ): Promise<void> {
    const contact = `${page.pageId}:${item.userId}`;
    const pending = unnamed.has(contact);
    const known = pending ? { settled: false } : deps.profiles.known(page.pageId, item.userId);
    const touched = await store(out, page, item, true, known.name);
    if (known.settled || (touched.name !== undefined && !pending)) {
      const name = known.settled ? known.name : touched.name;
      if (!known.settled && name !== undefined) deps.profiles.settle(page.pageId, item.userId, name);
      // A redelivery of the event that named the contact publishes its contact.updated again: the
      // publish that failed may have been the one carrying it (the name is stored, so nothing else will).
      if (touched.duplicate && name !== undefined) {
        const named = await deps.changes.recorded(
          onChannel(contactChange(page.pageId, item.userId, name, item.timestamp), page),
        );
        if (named?.time === new Date(item.timestamp).toISOString()) out.push(named);
      }
      return;
    }
    const name = await deps.profiles.ensure(page, item.userId, {
      newContact: touched.firstInbound,
      deadline,
    });
    if (!name) return;
    // The event is recorded before the name is written, so a stored name always has its event: after a
    // failure between the two, the redelivery gets the same name (from the contact record, or from
    // this container) and finds the same event (known).
    unnamed.add(contact);
    const event = await deps.changes.record(
      onChannel(contactChange(page.pageId, item.userId, name, item.timestamp), page),
      { known: true },
    );
    if (await conversations.setName(page.pageId, item.userId, name)) out.push(event);
    unnamed.delete(contact);
  }

  const base = (e: ConversationEvent) => ({
    pageId: e.pageId,
    userId: e.userId,
    timestamp: e.timestamp,
    ...(e.standby ? { standby: true } : {}),
  });

  async function message(
    out: Recorded,
    e: Event<'message'>,
    page: PageRecord,
    deadline: Deadline,
  ): Promise<void> {
    const item: TimelineItem = {
      ...base(e),
      mid: e.mid,
      kind: 'message',
      direction: e.direction,
      text: e.text,
      attachments: e.attachments.length ? e.attachments.map((a) => ({ ...a })) : undefined,
      quickReplyPayload: e.quickReplyPayload,
      replyToMid: e.replyToMid,
      appId: e.appId,
      status: e.direction === 'out' ? 'sent' : undefined,
      detail: messageDetail(e),
    };
    if (e.direction === 'in') await storeInbound(out, page, item, deadline);
    else await store(out, page, item, false);
  }

  async function postback(
    out: Recorded,
    e: Event<'postback'>,
    page: PageRecord,
    deadline: Deadline,
  ): Promise<void> {
    const detail = e.referral ? { referral: e.referral } : undefined;
    const item = { ...base(e), mid: e.mid, kind: 'postback' as const, direction: 'in' as const };
    await storeInbound(out, page, { ...item, title: e.title, payload: e.payload, detail }, deadline);
  }

  async function reaction(out: Recorded, e: Event<'reaction'>, page: PageRecord): Promise<void> {
    // An unreact is stored as a bare timestamp, so an older react that arrives late cannot revive it.
    const value =
      e.action === 'react'
        ? { reaction: e.reaction, emoji: e.emoji, timestamp: e.timestamp }
        : { timestamp: e.timestamp };
    const outcome = await conversations.setReaction(e.pageId, e.userId, e.targetMid, e.userId, value);
    if (outcome === 'missing')
      logger.info('reaction to a message we do not have: skipped', { pageId: e.pageId });
    if (outcome !== 'applied') return;
    const { pageId, userId, targetMid: mid, action, reaction, emoji, timestamp: at } = e;
    // Known: the same reaction applies again on a redelivery (the timestamp condition lets it).
    await note(out, reactionChange({ pageId, userId, mid, action, reaction, emoji, at }), true, page);
  }

  async function record(
    out: Recorded,
    e: Event<'referral' | 'optin' | 'handover'>,
    page: PageRecord,
  ): Promise<void> {
    const { pageId, userId, timestamp, standby, fromPage, kind, eventId, ...detail } = e;
    await store(out, page, { ...base(e), mid: eventId, kind, direction: 'in', detail }, false);
  }

  async function watermark(out: Recorded, e: Event<'delivery' | 'read'>, page: PageRecord): Promise<void> {
    const status = e.kind === 'read' ? 'read' : 'delivered';
    // Instagram's `messaging_seen` names the message seen instead of a watermark: everything the page
    // sent up to the moment it was seen is read.
    const seenMid = e.kind === 'read' ? e.mid : undefined;
    const level = e.watermark > 0 || seenMid === undefined ? e.watermark : e.timestamp;
    const raised = await conversations.raiseWatermark(e.pageId, e.userId, status, level);
    // The watermark covers every message sent up to it (message-status.ts derives `delivered` from
    // it): marking each mid as well would only cost writes. Only a delivery without one marks them.
    const mids = e.kind === 'delivery' ? e.mids : [];
    const marked =
      level <= 0 && mids.length ? await conversations.markDelivered(e.pageId, e.userId, mids) : 0;
    if (raised === 'older' && marked === 0) return;
    const change = statusChange({
      pageId: e.pageId,
      userId: e.userId,
      status,
      watermark: level,
      mids: seenMid ? [seenMid] : mids,
      at: e.timestamp,
    });
    await note(out, change, raised !== 'raised', page);
  }

  /**
   * A Messenger edit: the stored text replaced when no later edit is stored. An edit of a message not
   * stored (it came before Pagewire had the page, or overtook it) is kept as a placeholder message with
   * the edit's text, so it is never lost; the message arriving later finds it and stores nothing twice.
   */
  async function edit(out: Recorded, e: Event<'edit'>, page: PageRecord): Promise<void> {
    const change = { text: e.text, numEdit: e.numEdit, at: e.timestamp };
    let outcome = await conversations.applyEdit(e.pageId, e.userId, e.targetMid, change);
    if (outcome === 'missing') {
      count('EditsOfUnknownMessages');
      const placeholder: TimelineItem = {
        ...base(e),
        mid: e.targetMid,
        kind: 'message',
        direction: e.fromPage ? 'out' : 'in',
        text: e.text,
        edits: e.numEdit,
        editedAt: e.timestamp,
        placeholder: true,
      };
      const prepared = await conversations.prepareItem(placeholder);
      await conversations.touch(e.pageId, e.userId, { timestamp: e.timestamp, inbound: false });
      const put = await conversations.putPrepared(prepared);
      // Lost a race with the message itself (or a redelivery): apply the edit to what is stored.
      outcome =
        put === 'stored' ? 'applied' : await conversations.applyEdit(e.pageId, e.userId, e.targetMid, change);
    }
    if (outcome === 'stale' || outcome === 'missing') {
      logger.info('an older edit arrived after a newer one: skipped', { pageId: e.pageId });
      return;
    }
    const edited = await storedItem({ pageId: e.pageId, userId: e.userId, mid: e.targetMid });
    await note(out, editChange(edited, e.numEdit, e.timestamp), outcome === 'same', page);
  }

  /**
   * Instagram's unsend: the message marked deleted and its words and media erased. An unsend that
   * overtook its message leaves the message's place taken by an erased one (a tombstone), so the
   * message, when it comes, is not stored (its conditional put finds the mid) and never published.
   */
  async function unsend(
    out: Recorded,
    e: Event<'unsend'>,
    page: PageRecord,
    deadline: Deadline,
  ): Promise<void> {
    const { pageId, userId, targetMid: mid } = e;
    let marked = await conversations.markDeleted(pageId, userId, mid);
    if (!marked) {
      const tombstone: TimelineItem = {
        ...base(e),
        mid,
        kind: 'message',
        direction: e.fromPage ? 'out' : 'in',
        deleted: true,
      };
      const prepared = await conversations.prepareItem(tombstone);
      await conversations.touch(pageId, userId, { timestamp: e.timestamp, inbound: false });
      const put = await conversations.putPrepared(prepared);
      marked =
        put === 'stored'
          ? { before: tombstone, already: false }
          : await conversations.markDeleted(pageId, userId, mid);
    }
    if (!marked) throw new Error(`message ${mid} vanished while it was being unsent`);
    count('MessagesUnsent');
    await deps.onMessageDeleted?.(marked.before, deadline);
    // Its text also left the store in the events that carried it (again on a redelivery: idempotent).
    await deps.changes.redact(pageId, userId, contentKeysOf(mid, marked.before.edits), deletedData(mid));
    await note(out, deletedChange(pageId, userId, mid, e.timestamp), marked.already, page);
  }

  /** A stored item as it is now (after a duplicate, an edit); the given one if it is not there. */
  async function storedItem<T extends Pick<TimelineItem, 'pageId' | 'userId' | 'mid'>>(
    item: T,
  ): Promise<TimelineItem> {
    const found = await conversations.getItem(item.pageId, item.userId, item.mid);
    if (found) return found;
    throw new Error(`stored item ${item.mid} of page ${item.pageId} not found`);
  }

  /**
   * Applies one webhook event and answers the public events of what it stored (none for an event that
   * changed nothing), to be published once this resolves. `deadline`: the invocation's; the contact's
   * profile fetch stops before it.
   */
  return async function applyEvent(q: QueuedEvent, deadline: Deadline): Promise<Recorded> {
    const out: Recorded = [];
    const page = await deps.access.page(q.pageId);
    if (!page || page.status === 'disconnected') {
      count('EventsForUnknownPage');
      logger.info('event for a page that is not connected: dropped', { pageId: q.pageId });
      return out;
    }
    if ((q.channel ?? 'messenger') !== (page.channel ?? 'messenger')) {
      // The stored entry says what the id is (an Instagram account or a page); the body's object only
      // said what Meta meant. Stored under the entry all the same: never lost, but worth a look.
      count('EventsOnAnotherChannel');
      logger.warn('event channel differs from its page entry', { pageId: q.pageId, channel: q.channel });
    }
    const e = interpret(q);
    if (e.userId === e.pageId) {
      // Page-level events (app_roles) concern no conversation: a timeline with the page itself would be noise.
      logger.info('page-level event recorded in the log only', { pageId: e.pageId, kind: e.kind });
      return out;
    }
    switch (e.kind) {
      case 'message':
        await message(out, e, page, deadline);
        break;
      case 'postback':
        await postback(out, e, page, deadline);
        break;
      case 'reaction':
        await reaction(out, e, page);
        break;
      case 'delivery':
      case 'read':
        await watermark(out, e, page);
        break;
      case 'referral':
      case 'optin':
      case 'handover':
        await record(out, e, page);
        break;
      case 'edit':
        await edit(out, e, page);
        break;
      case 'unsend':
        await unsend(out, e, page, deadline);
        break;
      default:
        count('UnknownEventsSkipped');
        logger.info('unknown event kind: skipped', { pageId: e.pageId, keys: e.keys });
    }
    return out;
  };
}

/** Instagram changes publish on their channel (SPEC §11); Messenger's keep the default. */
function onChannel(change: Change, page: PageRecord): Change {
  return page.channel === 'instagram' ? { ...change, channel: 'instagram' } : change;
}

/** What a message keeps besides its text: an ad or link referral, an Instagram story it replies to. */
function messageDetail(e: Event<'message'>): TimelineItem['detail'] {
  const detail = {
    ...(e.referral ? { referral: e.referral } : {}),
    ...(e.replyToStory ? { replyToStory: e.replyToStory } : {}),
  };
  return Object.keys(detail).length ? detail : undefined;
}

/** normaliseEvent never throws by design; if it ever does, the event is what it cannot read. */
function interpret(q: QueuedEvent): ConversationEvent {
  try {
    return normaliseEvent(q);
  } catch (error) {
    throw new PoisonError('UninterpretableEvent', (error as Error).message, { cause: error });
  }
}
