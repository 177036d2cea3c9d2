import * as z from 'zod/mini';
import { fastObject, isJsonObject, JsonObject } from './json.js';

/**
 * What Meta POSTs to the webhook (SPEC §6), as far as Pagewire reads it. Every reader of a webhook
 * event goes through these schemas: the verifier routes events with `EventRouting`
 * (ingest/parse-webhook.ts), the processor interprets them with the event kinds
 * (conversations/normalise-event.ts).
 *
 * Meta adds fields and sometimes changes a type (ids as numbers, `mids` missing), so the fields are
 * lenient: a field of the wrong type reads as absent (`z.catch`), never failing the event it is in.
 * Only what the reader cannot do without fails: an event that is not an object, a kind whose key does
 * not hold an object. The raw event is never replaced by the parsed one: it is queued verbatim.
 * The envelope and routing schemas run per event in the verifier's hot path: `fastObject`, parsed
 * with `z.safeParse(schema, value)`.
 */

/** A field that reads as undefined when missing or of another type. */
function lenient<T extends z.core.SomeType>(schema: T) {
  return z.catch(z.optional(schema), undefined);
}

/** A non-empty string. */
const NonEmpty = z.string().check(z.minLength(1));

/** An id: a non-empty string, or a finite number (Meta sends some ids as numbers) made a string. */
export const IdString = z.union([NonEmpty, z.pipe(z.number(), z.transform(String))]);

/** Whole numbers below 2^53 (watermarks in ms, sticker ids); anything else the store would refuse. */
const WholeNumber = z.int();

const OptionalId = lenient(IdString);
const OptionalText = lenient(z.string());
const OptionalNonEmpty = lenient(NonEmpty);
const OptionalObject = lenient(JsonObject);

// ---- The envelope -------------------------------------------------------------------------------

/**
 * The webhook objects Pagewire takes: Messenger (`page`) and the Messenger API for Instagram
 * (`instagram`, SPEC §11): same envelope, same signature; Meta sends one object per POST.
 */
export const WEBHOOK_OBJECTS = ['page', 'instagram'] as const;
export type WebhookObject = (typeof WEBHOOK_OBJECTS)[number];

/** `{"object":"page"|"instagram","entry":[…]}`; entries are read one by one (`WebhookEntry`). */
export const WebhookEnvelope = fastObject({ object: z.enum(WEBHOOK_OBJECTS), entry: z.array(z.unknown()) });

/** The list fields of an entry: `messaging[]`, and `standby[]` for threads another app owns. */
export const EVENT_LISTS = [
  ['messaging', false],
  ['standby', true],
] as const;

/** One entry: the page it concerns, its time, and its event lists (each read with `EventList`). */
export const WebhookEntry = fastObject({
  id: OptionalId,
  time: lenient(z.number()),
  messaging: z.optional(z.unknown()),
  standby: z.optional(z.unknown()),
});
export type WebhookEntry = z.infer<typeof WebhookEntry>;

/** An event list; its events are read one by one, so a bad event is rejected alone. */
export const EventList = z.array(z.unknown());

// ---- Routing: what the verifier needs to queue an event ----------------------------------------

const Party = lenient(fastObject({ id: OptionalId, user_ref: OptionalNonEmpty }));
const WithMid = lenient(fastObject({ mid: OptionalNonEmpty }));

/**
 * Who and when: sender/recipient (an id, or a `user_ref` for checkbox and chat plugin people),
 * timestamp, the event's own mid (a message's or postback's), the opt-in's `user_ref`, `app_roles`.
 * Fails only for an event that is not an object.
 */
export const EventRouting = fastObject({
  sender: Party,
  recipient: Party,
  timestamp: lenient(z.number()),
  message: lenient(
    fastObject({
      mid: OptionalNonEmpty,
      is_echo: lenient(z.boolean()),
      /** Instagram's unsend: the same mid as the message it takes back, so it needs its own event id. */
      is_deleted: lenient(z.boolean()),
    }),
  ),
  postback: WithMid,
  optin: lenient(fastObject({ user_ref: OptionalNonEmpty })),
  app_roles: OptionalObject,
});
export type EventRouting = z.infer<typeof EventRouting>;

/**
 * `EventRouting`'s fast twin for the verifier's hot path: the same verdict and the same values as
 * `z.safeParse(EventRouting, value)` (undefined where that fails), in plain property checks. zod took
 * ~0.6 µs per event, a seventh of the verifier's CPU at 100 events; this allocates only its result.
 * The schema stays the contract (JSON Schema, docs); tests/unit/event-routing.property.test.ts fails
 * the moment the two disagree on any input, so a change to one must be made to both.
 */
export function readRouting(value: unknown): EventRouting | undefined {
  return isJsonObject(value) ? routingOf(value) : undefined;
}

/** `readRouting` of a value already known to be an object (it never fails then). */
export function routingOf(value: JsonObject): EventRouting {
  const { message, postback, optin, app_roles } = value;
  return {
    sender: party(value.sender),
    recipient: party(value.recipient),
    timestamp: finite(value.timestamp),
    message: isJsonObject(message)
      ? {
          mid: nonEmpty(message.mid),
          is_echo: typeof message.is_echo === 'boolean' ? message.is_echo : undefined,
          is_deleted: typeof message.is_deleted === 'boolean' ? message.is_deleted : undefined,
        }
      : undefined,
    postback: isJsonObject(postback) ? { mid: nonEmpty(postback.mid) } : undefined,
    optin: isJsonObject(optin) ? { user_ref: nonEmpty(optin.user_ref) } : undefined,
    app_roles: isJsonObject(app_roles) ? app_roles : undefined,
  };
}

function party(value: unknown): EventRouting['sender'] {
  return isJsonObject(value) ? { id: id(value.id), user_ref: nonEmpty(value.user_ref) } : undefined;
}

/** `IdString` read leniently: a non-empty string, or a finite number as `String` writes it. */
function id(value: unknown): string | undefined {
  return typeof value === 'number' ? (Number.isFinite(value) ? String(value) : undefined) : nonEmpty(value);
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** `z.number()`: finite numbers only. */
function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

// ---- Event kinds: what the processor interprets ------------------------------------------------

/** `fallback` attachments may carry `url`/`title` beside a null payload, or no payload at all. */
export const AttachmentSchema = z.object({
  type: OptionalText,
  url: OptionalText,
  title: OptionalText,
  payload: OptionalObject,
});

/** The sticker id, url and title an attachment's payload may hold. */
export const AttachmentPayload = z.object({
  url: OptionalText,
  title: OptionalText,
  sticker_id: lenient(WholeNumber),
});

/** Instagram story replies: `reply_to.story {url, id}` (the story's media URL dies with the story). */
const ReplyTo = lenient(
  z.object({ mid: OptionalNonEmpty, story: lenient(z.object({ url: OptionalText, id: OptionalId })) }),
);

export const MessageEvent = z.object({
  mid: OptionalNonEmpty,
  text: OptionalText,
  is_echo: lenient(z.boolean()),
  /** Instagram: the person unsent the message `mid`. */
  is_deleted: lenient(z.boolean()),
  /** Items that are not objects are dropped (`undefined` here, filtered by the reader). */
  attachments: z.catch(z.array(z.catch(z.optional(AttachmentSchema), undefined)), []),
  quick_reply: lenient(z.object({ payload: OptionalText })),
  reply_to: ReplyTo,
  /** Echoes: the app that sent it (263902037430900 = the Page inbox). */
  app_id: OptionalId,
  metadata: OptionalText,
  referral: OptionalObject,
});

/** Standby postbacks carry no payload. */
export const PostbackEvent = z.object({
  mid: OptionalNonEmpty,
  title: OptionalText,
  payload: OptionalText,
  referral: OptionalObject,
});

/** A reaction names the message reacted to; without that mid it is not read as a reaction. */
export const ReactionEvent = z.object({
  mid: NonEmpty,
  action: lenient(z.string()),
  reaction: OptionalText,
  emoji: OptionalText,
});

export const DeliveryEvent = z.object({
  watermark: lenient(WholeNumber),
  mids: z.catch(z.array(z.catch(z.optional(z.string()), undefined)), []),
});

/** Messenger reads carry a watermark; Instagram's `messaging_seen` names the last message seen (`mid`). */
export const ReadEvent = z.object({ watermark: lenient(WholeNumber), mid: OptionalNonEmpty });

/** Messenger `message_edits`: the message's new text and how many times it was edited so far. */
export const MessageEditEvent = z.object({
  mid: NonEmpty,
  text: OptionalText,
  num_edit: lenient(WholeNumber),
});

export const ReferralEvent = z.object({
  ref: OptionalText,
  source: OptionalText,
  type: OptionalText,
  ad_id: OptionalId,
});

export const OptinEvent = z.object({ type: OptionalText, payload: OptionalText, ref: OptionalText });

/** Handover protocol events: the key names the action, its object is kept as it came. */
export const HANDOVER_ACTIONS = [
  'pass_thread_control',
  'take_thread_control',
  'request_thread_control',
  'app_roles',
] as const;
export type HandoverAction = (typeof HANDOVER_ACTIONS)[number];
export const HandoverEvent = JsonObject;
