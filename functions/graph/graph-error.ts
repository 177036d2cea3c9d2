/**
 * A Graph API failure, classified once so every caller applies the same policy (SPEC §5).
 * The message is Meta's own words; it never contains a token (we never put one in it).
 */
export type GraphErrorClass = 'auth' | 'throttle' | 'transient' | 'permanent';

const THROTTLE_CODES = new Set([4, 17, 32, 613, 80001, 80006]);
const TRANSIENT_CODES = new Set([1, 2]);

export function classifyGraphError(status: number, code: number | undefined): GraphErrorClass {
  if (code === 190) return 'auth';
  if (code !== undefined && THROTTLE_CODES.has(code)) return 'throttle';
  if (status === 429) return 'throttle';
  if (status === 0 || status >= 500 || (code !== undefined && TRANSIENT_CODES.has(code))) return 'transient';
  return 'permanent';
}

/** What a GraphError is made of; everything but the operation, status and message is optional. */
export interface GraphErrorInit {
  /** What we were doing, e.g. `POST /{page-id}/subscribed_apps` (a template, never a URL with a token). */
  operation: string;
  /** The HTTP status; 0 when no answer came (timeout, network error, refused before sending). */
  status: number;
  message: string;
  code?: number;
  subcode?: number;
  fbtraceId?: string;
  /** From `X-Business-Use-Case-Usage` `estimated_time_to_regain_access`, when Meta sent it. */
  retryAfterMs?: number;
  /** When a call knows better than the general rule (see GraphClient's `permanentCodes`). */
  errorClass?: GraphErrorClass;
}

export class GraphError extends Error {
  override readonly name = 'GraphError';
  readonly operation: string;
  readonly status: number;
  readonly code?: number;
  readonly subcode?: number;
  readonly fbtraceId?: string;
  readonly retryAfterMs?: number;
  readonly errorClass: GraphErrorClass;

  constructor(init: GraphErrorInit);
  /** @deprecated The positional form, kept until the last caller outside graph/ moves to the options object. */
  constructor(
    operation: string,
    status: number,
    message: string,
    code?: number,
    subcode?: number,
    fbtraceId?: string,
    retryAfterMs?: number,
    errorClass?: GraphErrorClass,
  );
  constructor(
    first: GraphErrorInit | string,
    status = 0,
    message = '',
    code?: number,
    subcode?: number,
    fbtraceId?: string,
    retryAfterMs?: number,
    errorClass?: GraphErrorClass,
  ) {
    const init: GraphErrorInit =
      typeof first === 'string'
        ? { operation: first, status, message, code, subcode, fbtraceId, retryAfterMs, errorClass }
        : first;
    super(init.message);
    this.operation = init.operation;
    this.status = init.status;
    this.code = init.code;
    this.subcode = init.subcode;
    this.fbtraceId = init.fbtraceId;
    this.retryAfterMs = init.retryAfterMs;
    this.errorClass = init.errorClass ?? classifyGraphError(init.status, init.code);
  }

  /** A log-safe summary: the operation, the codes and Meta's message. */
  toJSON(): Record<string, unknown> {
    return {
      operation: this.operation,
      status: this.status,
      code: this.code,
      subcode: this.subcode,
      class: this.errorClass,
      message: this.message,
      fbtraceId: this.fbtraceId,
    };
  }
}

/**
 * `X-Business-Use-Case-Usage` is `{"<business id>":[{"estimated_time_to_regain_access": minutes, …}]}`.
 * Returns the longest wait it announces, in ms, or undefined.
 */
export function regainAccessMs(header: string | null): number | undefined {
  if (!header) return undefined;
  try {
    const usage = JSON.parse(header) as Record<string, Array<{ estimated_time_to_regain_access?: number }>>;
    const minutes = Object.values(usage)
      .flat()
      .map((u) => Number(u?.estimated_time_to_regain_access ?? 0));
    const longest = Math.max(0, ...minutes.filter(Number.isFinite));
    return longest > 0 ? longest * 60_000 : undefined;
  } catch {
    return undefined;
  }
}

/** No Graph call was made: the invocation had no time left for one (the request never left). */
export class GraphNotAttemptedError extends GraphError {
  constructor(operation: string) {
    super({ operation, status: 0, message: 'no time left in this invocation for a Graph call' });
  }
}
