/**
 * Page outcomes (functions/pages/outcome.ts): each variant as SPEC §4 answers one page (the words the
 * admin API and the CLI showed before outcomes were a union), and the report of a run.
 */
import { describe, expect, it } from 'vitest';
import { type PageOutcome, reportOf, summaryOf } from '#pages/outcome';

const rows: Array<[PageOutcome, ReturnType<typeof summaryOf>]> = [
  [
    { pageId: '1', result: 'done', status: 'active' },
    { pageId: '1', ok: true, status: 'active' },
  ],
  [
    { pageId: '1', result: 'done', status: 'disconnected', warning: 'could not unsubscribe at Meta: x' },
    { pageId: '1', ok: true, status: 'disconnected', error: 'could not unsubscribe at Meta: x' },
  ],
  [
    { pageId: '1', result: 'repaired', status: 'active' },
    { pageId: '1', ok: true, status: 'active' },
  ],
  [
    {
      pageId: '1',
      result: 'missing',
      status: 'subscription_failed',
      reason: 'the app is not subscribed to this page',
    },
    {
      pageId: '1',
      ok: false,
      status: 'subscription_failed',
      error: 'the app is not subscribed to this page',
    },
  ],
  [
    { pageId: '1', result: 'refused', status: 'reauth_required', reason: 'session invalidated' },
    { pageId: '1', ok: false, status: 'reauth_required', error: 'session invalidated' },
  ],
  [
    { pageId: '1', result: 'retry', status: 'active', reason: 'throttled' },
    { pageId: '1', ok: false, status: 'active', error: 'throttled' },
  ],
  [
    { pageId: '1', result: 'skipped', reason: 'unknown_page' },
    { pageId: '1', ok: false, error: 'unknown page' },
  ],
  [
    { pageId: '1', result: 'skipped', reason: 'disconnected', status: 'disconnected' },
    { pageId: '1', ok: false, status: 'disconnected', error: 'page is disconnected' },
  ],
  [
    {
      pageId: '1',
      result: 'skipped',
      reason: 'needs_reauth',
      status: 'reauth_required',
      detail: 'token refused',
    },
    {
      pageId: '1',
      ok: false,
      status: 'reauth_required',
      error: 'page needs reauth (connect it again with a fresh user token): token refused',
    },
  ],
  [
    { pageId: '1', result: 'skipped', reason: 'needs_reauth', status: 'subscribing' },
    {
      pageId: '1',
      ok: false,
      status: 'subscribing',
      error: 'page needs reauth (connect it again with a fresh user token)',
    },
  ],
  [
    { pageId: '1', result: 'skipped', reason: 'superseded' },
    { pageId: '1', ok: false, error: 'the page was disconnected or reconnected meanwhile' },
  ],
  [
    { pageId: '1', result: 'skipped', reason: 'no_pending_token' },
    { pageId: '1', ok: false, error: 'no new token to connect with' },
  ],
  [
    { pageId: '1', result: 'error', reason: 'boom' },
    { pageId: '1', ok: false, error: 'boom' },
  ],
];

describe('page outcomes', () => {
  it.each(rows)('%o answers %o', (outcome, summary) => {
    expect(summaryOf(outcome)).toEqual(summary);
  });

  it('reports a run: successes counted, failures and repairs in pageId order', () => {
    const report = reportOf([
      { pageId: '3', result: 'repaired', status: 'active' },
      { pageId: '2', result: 'refused', status: 'subscription_failed', reason: 'no' },
      { pageId: '4', result: 'done', status: 'active' },
      { pageId: '1', result: 'retry', status: 'active', reason: 'later' },
      { pageId: '0', result: 'repaired', status: 'active' },
    ]);
    expect(report).toEqual({
      total: 5,
      succeeded: 3,
      failed: [
        { pageId: '1', error: 'later' },
        { pageId: '2', error: 'no' },
      ],
      repaired: ['0', '3'],
    });
  });
});
