/**
 * EventBridge (JSON 1.1, `AWSEvents.PutEvents`) for the buses of the template: each entry checked as
 * EventBridge checks it (source, detail-type, a JSON object as detail, an existing bus), answered
 * `{FailedEntryCount, Entries}` with one result per entry in order, and recorded. `failEntries` makes
 * the accepted-looking entries fail with an error code, as EventBridge reports a partial failure, until
 * `heal` is called. IAM authorizes each entry on its bus (testkit/iam.ts putEventsAuthorizations).
 */
import { randomUUID } from 'node:crypto';
import { busArn } from '../cfn.js';
import { putEventsAuthorizations } from '../iam.js';
import {
  type AwsRequest,
  type FakeService,
  type Gate,
  type Handled,
  jsonAnswer,
  jsonError,
} from './types.js';

/** One entry as the SDK sends it (`Time` in epoch seconds). */
export interface PutEventsEntry {
  EventBusName?: string;
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Time?: number;
  Resources?: string[];
}

export interface PutEventsResult {
  EventId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

/** One PutEvents call that reached the fake (allowed by IAM), with what it answered per entry. */
export interface PutEventsCall {
  principal: string;
  entries: Array<PutEventsEntry & PutEventsResult>;
}

const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;
const MESSAGES: Record<string, string> = {
  InternalFailure: 'Internal Service Error',
  ThrottlingException: 'Rate exceeded',
};

export class EventBridgeFake implements FakeService {
  readonly calls: PutEventsCall[] = [];
  private failure?: { code: string; match: (entry: PutEventsEntry) => boolean };

  /** `busNames`: the buses that exist (the template's `AWS::Events::EventBus` names). */
  constructor(private readonly busNames: string[]) {}

  /** From now on, entries that `match` (default: all) fail with `code`, until `heal()`. */
  failEntries(code = 'InternalFailure', match: (entry: PutEventsEntry) => boolean = () => true): void {
    this.failure = { code, match };
  }

  heal(): void {
    this.failure = undefined;
  }

  /** Every entry EventBridge accepted (it has an EventId), in the order they arrived. */
  get accepted(): Array<PutEventsEntry & { EventId: string }> {
    return this.calls.flatMap((c) =>
      c.entries.flatMap((e) => (e.EventId === undefined ? [] : [{ ...e, EventId: e.EventId }])),
    );
  }

  /** Every entry answered with an error code. */
  get failed(): Array<PutEventsEntry & PutEventsResult> {
    return this.calls.flatMap((c) => c.entries.filter((e) => e.ErrorCode !== undefined));
  }

  handle(request: AwsRequest, gate: Gate): Handled {
    const operation = request.operation;
    const input = JSON.parse(request.body.toString('utf8') || '{}') as { Entries?: PutEventsEntry[] };
    const entries = input.Entries ?? [];
    const authorizations = putEventsAuthorizations(entries);
    const done = (answer: Handled['answer']): Handled => ({ answer, operation, authorizations });
    const denied = gate(authorizations, request);
    if (denied) return done(denied);
    if (operation !== 'PutEvents') {
      return done(jsonError(400, 'UnknownOperationException', `the fake does not implement ${operation}`));
    }
    if (entries.length < 1 || entries.length > MAX_ENTRIES) {
      return done(jsonError(400, 'ValidationException', `Entries must hold 1 to ${MAX_ENTRIES} entries`));
    }
    if (request.body.length > MAX_REQUEST_BYTES) {
      return done(
        jsonError(400, 'ValidationException', 'Total size of the entries in the request is over the limit.'),
      );
    }
    const results = entries.map((entry) => this.put(entry));
    this.calls.push({
      principal: request.principal,
      entries: entries.map((entry, i) => ({ ...entry, ...results[i] })),
    });
    return done(
      jsonAnswer({
        FailedEntryCount: results.filter((r) => r.ErrorCode !== undefined).length,
        Entries: results,
      }),
    );
  }

  private put(entry: PutEventsEntry): PutEventsResult {
    const bus = entry.EventBusName || 'default';
    const known = this.busNames.some((name) => bus === name || bus === busArn(name));
    if (!known) return { ErrorCode: 'NotFoundException', ErrorMessage: `Event bus ${bus} does not exist.` };
    if (!entry.Source) return invalid('Source');
    if (!entry.DetailType) return invalid('DetailType');
    if (!isJsonObject(entry.Detail))
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    if (this.failure?.match(entry)) {
      const code = this.failure.code;
      return { ErrorCode: code, ErrorMessage: MESSAGES[code] ?? code };
    }
    return { EventId: randomUUID() };
  }
}

const invalid = (field: string): PutEventsResult => ({
  ErrorCode: 'InvalidArgument',
  ErrorMessage: `Parameter ${field} is not valid.`,
});

function isJsonObject(text: string | undefined): boolean {
  try {
    const value: unknown = JSON.parse(text ?? '');
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
