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

export class GraphError extends Error {
  override readonly name = 'GraphError';
  readonly errorClass: GraphErrorClass;

  constructor(
    /** What we were doing, e.g. `POST /{page-id}/subscribed_apps` (a template, never a URL with a token). */
    readonly operation: string,
    readonly status: number,
    message: string,
    readonly code?: number,
    readonly subcode?: number,
    readonly fbtraceId?: string,
    /** From `X-Business-Use-Case-Usage` `estimated_time_to_regain_access`, when Meta sent it. */
    readonly retryAfterMs?: number,
    /** When a call knows better than the general rule (see GraphClient's `permanentCodes`). */
    errorClass?: GraphErrorClass,
  ) {
    super(message);
    this.errorClass = errorClass ?? classifyGraphError(status, code);
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
    super(operation, 0, 'no time left in this invocation for a Graph call');
  }
}
