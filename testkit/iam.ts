/**
 * Checks an AWS call against a role's identity policy the way IAM evaluates it for the parts the
 * stack uses: an explicit Deny wins, else some Allow must match the action (wildcards, case-insensitive),
 * the resource (wildcards) and every condition. Condition operators it does not know make the
 * statement not match (fail closed), so a new operator in the stack shows up here instead of passing.
 */
import { busArn, type PolicyStatement } from './cfn.js';

/** One authorization IAM makes for a call: one action on one resource, with its request context. */
export interface Authorization {
  /** e.g. `sqs:SendMessage` (SendMessageBatch is authorized as this). */
  action: string;
  resource: string;
  /** Condition keys of the request, e.g. `kms:EncryptionContextKeys`: ['pageId']. */
  context?: Record<string, string | string[]>;
}

export interface Verdict {
  allowed: boolean;
  why: string;
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

type Test = (policy: string, request: string) => boolean;
const TESTS: Record<string, Test> = {
  StringEquals: (p, r) => p === r,
  StringLike: (p, r) => wildcard(p, r, false),
  StringEqualsIgnoreCase: (p, r) => p.toLowerCase() === r.toLowerCase(),
  ArnEquals: (p, r) => p === r,
  ArnLike: (p, r) => wildcard(p, r, false),
};

/** One condition block (operator → key → values). Undefined = an operator this checker does not know. */
function conditionHolds(
  operator: string,
  key: string,
  values: string[],
  context: Record<string, string | string[]>,
): boolean | undefined {
  const [qualifier, base] = operator.includes(':') ? operator.split(':') : [undefined, operator];
  // IAM's negated string operator holds when the key is absent, or when no value matches.
  if (base === 'StringNotLike' && !qualifier) {
    const requested = list(context[key]);
    return requested.every((r) => !values.some((p) => wildcard(p, r, false)));
  }
  const test = TESTS[base];
  if (!test || (qualifier && qualifier !== 'ForAnyValue' && qualifier !== 'ForAllValues')) return undefined;
  const present = key in context;
  const requested = list(context[key]);
  const matches = (r: string) => values.some((p) => test(p, r));
  // IAM: ForAllValues holds when every requested value matches (also when there are none);
  // ForAnyValue when at least one does; a plain operator needs the single-valued key present.
  if (qualifier === 'ForAllValues') return requested.every(matches);
  if (qualifier === 'ForAnyValue') return requested.some(matches);
  const [single, ...others] = requested;
  return present && single !== undefined && others.length === 0 && matches(single);
}

function statementMatches(s: PolicyStatement, auth: Authorization): { match: boolean; unknown?: string } {
  if (s.NotAction !== undefined || s.NotResource !== undefined) {
    return { match: false, unknown: 'NotAction/NotResource' };
  }
  if (!list(s.Action).some((a) => wildcard(a, auth.action, true))) return { match: false };
  if (!list(s.Resource).some((r) => wildcard(r, auth.resource, false))) return { match: false };
  for (const [operator, block] of Object.entries(s.Condition ?? {})) {
    for (const [key, values] of Object.entries(block)) {
      const holds = conditionHolds(operator, key, list(values), auth.context ?? {});
      if (holds === undefined) return { match: false, unknown: operator };
      if (!holds) return { match: false };
    }
  }
  return { match: true };
}

export function authorize(statements: PolicyStatement[], auth: Authorization): Verdict {
  const unknown: string[] = [];
  let allowed = false;
  for (const s of statements) {
    const { match, unknown: op } = statementMatches(s, auth);
    if (op) unknown.push(op);
    if (!match) continue;
    if (s.Effect === 'Deny') return { allowed: false, why: 'explicitly denied' };
    allowed = true;
  }
  if (allowed) return { allowed, why: 'allowed' };
  const note = unknown.length
    ? ` (unsupported condition operators: ${[...new Set(unknown)].join(', ')})`
    : '';
  return { allowed: false, why: `no Allow statement matches${note}` };
}

/** One PutEvents entry as IAM reads it: the bus it names and the request's condition keys. */
export interface PutEventsEntryInput {
  EventBusName?: string;
  Source?: string;
  DetailType?: string;
}

/**
 * `events:PutEvents` is authorized once per entry, on the bus the entry names (a name or an ARN; none is
 * the account's `default` bus), with the entry's `events:source` and `events:detail-type` as context.
 */
export function putEventsAuthorizations(entries: readonly PutEventsEntryInput[]): Authorization[] {
  return entries.map((entry) => {
    const bus = entry.EventBusName || 'default';
    return {
      action: 'events:PutEvents',
      resource: bus.startsWith('arn:') ? bus : busArn(bus),
      context: { 'events:source': entry.Source ?? '', 'events:detail-type': entry.DetailType ?? '' },
    };
  });
}
