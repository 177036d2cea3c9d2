/**
 * A webhook event interpreted: what the processor acts on. Produced by `normaliseEvent` from a
 * `QueuedEvent`; pure data, no I/O.
 */
export interface Attachment {
  type: string;
  url?: string;
  title?: string;
  stickerId?: number;
  /** Anything else Meta sent in `payload` (templates on echoes, products, …). */
  payload?: Record<string, unknown>;
}

interface Common {
  pageId: string;
  userId: string;
  timestamp: number;
  standby: boolean;
}

export type ConversationEvent = Common &
  (
    | {
        kind: 'message';
        /** `in` from the person, `out` for echoes of what the page sent. */
        direction: 'in' | 'out';
        mid: string;
        text?: string;
        attachments: Attachment[];
        quickReplyPayload?: string;
        replyToMid?: string;
        /** Echoes: the app that sent it (263902037430900 = the Page inbox). */
        appId?: string;
        metadata?: string;
        referral?: Record<string, unknown>;
      }
    | { kind: 'postback'; mid: string; title?: string; payload?: string; referral?: Record<string, unknown> }
    | { kind: 'reaction'; targetMid: string; action: 'react' | 'unreact'; reaction?: string; emoji?: string }
    | { kind: 'delivery'; watermark: number; mids: string[] }
    | { kind: 'read'; watermark: number }
    | { kind: 'referral'; eventId: string; ref?: string; source?: string; type?: string; adId?: string }
    | { kind: 'optin'; eventId: string; type?: string; payload?: string; ref?: string }
    | {
        kind: 'handover';
        eventId: string;
        action: 'pass_thread_control' | 'take_thread_control' | 'request_thread_control' | 'app_roles';
        detail: Record<string, unknown>;
      }
    | { kind: 'unknown'; eventId: string; keys: string[] }
  );

export type ConversationEventKind = ConversationEvent['kind'];
