/**
 * Numbers several parts must agree on, defined once: the CDK queues, the local queue and gateway, the
 * verifier, the processor, the admin API and the CLI.
 */

/** Receives of a queue message before it is set aside in the dead-letter queue (SQS redrive policy). */
export const MAX_RECEIVE_COUNT = 5;

/** Meta's limit for a webhook body is far below this; anything larger is not a webhook (413). */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

/** SQS: largest message (and SendMessageBatch request), entries per batch, FIFO group/dedup id length. */
export const SQS_MAX_PAYLOAD_BYTES = 1_048_576;
export const SQS_MAX_BATCH_ENTRIES = 10;
export const SQS_ID_MAX = 128;

/**
 * Longest page id, user id or mid taken from a webhook (UTF-16 units). Meta's are 15–20 digits and
 * mids about 100–250 characters. The bound keeps every queue message that names an event small, a
 * claim check included (three ids of 16 Ki characters, each escaped at worst to 6 bytes, stay under
 * 300 KB), whatever else the event holds. Below it, an id too long for a DynamoDB key (1,024 bytes)
 * is queued and then quarantined by the processor with its reason (KeyTooLarge), not dropped.
 */
export const MAX_ID_LENGTH = 16_384;

/**
 * An event whose queue message would be larger than this travels as a claim check (ingest/claim-check.ts
 * says why 256 KiB).
 */
export const CLAIM_CHECK_ABOVE_BYTES = 256 * 1024;

/** Admin API lists: `?limit=N`, 1 to LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT when absent. */
export const LIST_LIMIT_DEFAULT = 200;
export const LIST_LIMIT_MAX = 1_000;
/** Dead letters listed when no limit is given. */
export const DEAD_LETTERS_LIST_DEFAULT = 50;

/** Longest text the admin API sends as a message (Messenger's limit for a text message). */
export const MESSAGE_TEXT_MAX = 2000;

/**
 * Longest id the admin API takes in a URL path (`{pageId}`, `{userId}`, `{eventId}`): Page ids and PSIDs
 * are 15–20 digits, so anything longer is not one (and DynamoDB would refuse the key).
 */
export const ADMIN_PATH_ID_MAX = 128;

/**
 * Meta's user tokens are about 200–300 characters today and documented as variable in size; 4096 leaves
 * them room to grow tenfold while a pasted file or a runaway string is refused (400) instead of being
 * sent to Graph in a URL (502).
 */
export const USER_TOKEN_MAX_CHARS = 4096;

/** `GET /admin/quarantine?pageId=`: a DynamoDB partition key is at most 1,024 bytes. */
export const QUARANTINE_PAGE_ID_MAX = 1024;
