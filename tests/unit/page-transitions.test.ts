/**
 * The page lifecycle's transitions (functions/pages/page.ts), one row per transition of the plan's
 * table: what each sets, removes and under which guard it may land.
 */
import { describe, expect, it } from 'vitest';
import {
  checked,
  commandRecorded,
  connectRequested,
  deferred,
  disconnected,
  type Page,
  type PageChange,
  reauth,
  refused,
  subscribed,
  tokenPromoted,
  withCheckedAt,
} from '#pages/page';

const AT = '2026-01-02T03:04:05.000Z';
const base: Page = {
  pageId: '1',
  name: 'Old name',
  status: 'active',
  sealedToken: 'sealed-current',
  subscribedFields: ['messages'],
  connectedAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
};
const pageIn = (status: Page['status'], extra: Partial<Page> = {}): Page => ({ ...base, status, ...extra });
const holdsCurrent = { name: 'holdsToken', token: 'sealed-current' } as const;
const err = { message: 'Meta said no' };
const command = { id: 'c1', type: 'check', ok: true, at: AT };

const rows: Array<[string, PageChange, PageChange]> = [
  [
    'connectRequested(new): ∅ → subscribing, only while new',
    connectRequested(undefined, { name: 'New', pendingSealedToken: 'sealed-pending', at: AT }),
    {
      set: {
        name: 'New',
        pendingSealedToken: 'sealed-pending',
        status: 'subscribing',
        subscribedFields: [],
        connectedAt: AT,
        updatedAt: AT,
      },
      remove: [],
      guard: { name: 'pageIsNew' },
      from: null,
    },
  ],
  [
    'connectRequested(existing): status and token kept, the new token pending',
    connectRequested(pageIn('reauth_required'), {
      name: 'New',
      pendingSealedToken: 'sealed-pending',
      at: AT,
    }),
    { set: { name: 'New', pendingSealedToken: 'sealed-pending' }, remove: [], guard: { name: 'pageExists' } },
  ],
  [
    'connectRequested(disconnected): connected again from now',
    connectRequested(pageIn('disconnected'), { name: 'New', pendingSealedToken: 'sealed-pending', at: AT }),
    {
      set: { name: 'New', pendingSealedToken: 'sealed-pending', connectedAt: AT },
      remove: [],
      guard: { name: 'pageExists' },
    },
  ],
  [
    'tokenPromoted: any → subscribing with the pending token, while it still waits',
    tokenPromoted({ ...pageIn('reauth_required'), pendingSealedToken: 'sealed-pending' }),
    {
      set: { status: 'subscribing', sealedToken: 'sealed-pending' },
      remove: ['pendingSealedToken', 'lastError'],
      guard: { name: 'awaitsToken', token: 'sealed-pending' },
      from: 'reauth_required',
    },
  ],
  [
    'subscribed: → active with the fields, error cleared',
    subscribed(pageIn('subscription_failed'), ['messages', 'messaging_postbacks']),
    {
      set: { status: 'active', subscribedFields: ['messages', 'messaging_postbacks'] },
      remove: ['lastError'],
      guard: holdsCurrent,
      from: 'subscription_failed',
    },
  ],
  [
    'checked(healthy) of a failed page: → active, error cleared',
    checked(pageIn('subscription_failed'), { found: 'healthy', fields: ['messages'] }, AT),
    {
      set: { lastCheckedAt: AT, subscribedFields: ['messages'], status: 'active' },
      remove: ['lastError'],
      guard: holdsCurrent,
      from: 'subscription_failed',
    },
  ],
  [
    'checked(healthy) of an active page: stays active',
    checked(pageIn('active'), { found: 'healthy', fields: ['messages'] }, AT),
    {
      set: { lastCheckedAt: AT, subscribedFields: ['messages'], status: 'active' },
      remove: [],
      guard: holdsCurrent,
      from: 'active',
    },
  ],
  [
    'checked(missing): → subscription_failed with the problem',
    checked(pageIn('active'), { found: 'missing', fields: [], problem: 'not subscribed' }, AT),
    {
      set: {
        lastCheckedAt: AT,
        subscribedFields: [],
        status: 'subscription_failed',
        lastError: 'not subscribed',
      },
      remove: [],
      guard: holdsCurrent,
      from: 'active',
    },
  ],
  [
    'checked(repairing): status kept until the subscribe settles it',
    checked(pageIn('active'), { found: 'repairing', fields: ['messages'] }, AT),
    { set: { lastCheckedAt: AT, subscribedFields: ['messages'] }, remove: [], guard: holdsCurrent },
  ],
  [
    'checked(failed): the check time and the refusal in one write',
    withCheckedAt(refused(pageIn('active'), err, false), AT),
    { set: { lastCheckedAt: AT, lastError: 'Meta said no' }, remove: [], guard: holdsCurrent },
  ],
  [
    'refused on subscribe: → subscription_failed',
    refused(pageIn('subscribing'), err, true),
    {
      set: { status: 'subscription_failed', lastError: 'Meta said no' },
      remove: [],
      guard: holdsCurrent,
      from: 'subscribing',
    },
  ],
  [
    'refused on check: status kept',
    refused(pageIn('active'), err, false),
    { set: { lastError: 'Meta said no' }, remove: [], guard: holdsCurrent },
  ],
  [
    'deferred: status kept, error noted',
    deferred(pageIn('subscribing'), err),
    { set: { lastError: 'Meta said no' }, remove: [], guard: holdsCurrent },
  ],
  [
    'reauth: → reauth_required, only on the refused token',
    reauth(pageIn('active'), err),
    {
      set: { status: 'reauth_required', lastError: 'Meta said no' },
      remove: [],
      guard: holdsCurrent,
      from: 'active',
    },
  ],
  [
    'reauth of a page without a token: only while it still has none',
    reauth(pageIn('active', { sealedToken: undefined }), err),
    {
      set: { status: 'reauth_required', lastError: 'Meta said no' },
      remove: [],
      guard: { name: 'holdsToken', token: undefined },
      from: 'active',
    },
  ],
  [
    'disconnected: any → disconnected, token and error erased (a pending token stays)',
    disconnected(pageIn('reauth_required')),
    {
      set: { status: 'disconnected', subscribedFields: [] },
      remove: ['sealedToken', 'lastError'],
      guard: { name: 'pageExists' },
      from: 'reauth_required',
    },
  ],
  [
    'disconnected(warning): the warning kept as the error',
    disconnected(pageIn('active'), 'could not unsubscribe at Meta'),
    {
      set: { status: 'disconnected', subscribedFields: [], lastError: 'could not unsubscribe at Meta' },
      remove: ['sealedToken'],
      guard: { name: 'pageExists' },
      from: 'active',
    },
  ],
  [
    'commandRecorded: status kept, the command noted',
    commandRecorded(command),
    { set: { lastCommand: command }, remove: [], guard: { name: 'pageExists' } },
  ],
];

describe('page transitions', () => {
  it.each(rows)('%s', (_, change, expected) => {
    expect(change).toStrictEqual(expected);
  });

  it('a transition never sets and removes the same field', () => {
    for (const [name, change] of rows) {
      const both = change.remove.filter((field) => field in change.set);
      expect(both, name).toEqual([]);
    }
  });
});
