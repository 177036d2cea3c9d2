import { describe, expect, it } from 'vitest';
import { DEFAULT_SUBSCRIBED_FIELDS } from '#contracts/config';
import { warningOf } from '#contracts/doctor';
import type { PageRecord } from '#contracts/page-record';
import {
  appChecks,
  carriedTokenChecks,
  eventsCheck,
  findingsOf,
  subscriptionCheck,
  tokenChecks,
} from '#doctor/checks';
import { listedWarnings } from '#doctor/warnings';
import { usagePercent } from '#graph/usage';
import { dayOf } from '#pages/page-liveness';

const NOW = 1_800_000_000;
const DAY = 86_400;
const URL = 'https://hooks.example.com/webhooks/facebook';
const want = { callbackUrl: URL, fields: DEFAULT_SUBSCRIBED_FIELDS };
const page = { object: 'page', callbackUrl: URL, active: true, fields: [...DEFAULT_SUBSCRIBED_FIELDS] };
const valid = {
  isValid: true,
  scopes: ['pages_messaging', 'pages_manage_metadata'],
  expiresAt: 0,
  dataAccessExpiresAt: NOW + 60 * DAY,
};

describe('app checks', () => {
  it('a healthy page webhook passes; another object does not count', () => {
    expect(appChecks([page], want).every((c) => c.ok)).toBe(true);
    const onlyUser = appChecks([{ ...page, object: 'user' }], want);
    expect(onlyUser.map((c) => c.ok)).toEqual([false, false, false]);
    expect(warningOf(onlyUser[0] as never)).toBe('app_subscription_missing');
  });

  it('an unconfigured webhook URL is a problem with its own fix, never ok by default', () => {
    const [, callback] = appChecks([page], { ...want, callbackUrl: undefined });
    expect(callback).toMatchObject({ ok: false, fix: expect.stringMatching(/WEBHOOK_URL/) });
  });

  it('names every missing field', () => {
    const fields = page.fields.filter((f) => f !== 'standby' && f !== 'messages');
    expect(appChecks([{ ...page, fields }], want)[2]?.detail).toBe('missing messages, standby');
  });
});

describe('token checks', () => {
  it('data access: more than 14 days is fine; 14 days or less warns; past is expired; 0 is no expiry', () => {
    const data = (at: number) => tokenChecks({ ...valid, dataAccessExpiresAt: at }, NOW).at(-1);
    expect(data(NOW + 15 * DAY)?.ok).toBe(true);
    expect(data(NOW + 14 * DAY)).toMatchObject({ ok: false, detail: expect.stringMatching(/in 14 days/) });
    expect(data(NOW - DAY)).toMatchObject({ ok: false, detail: expect.stringMatching(/expired/) });
    expect(data(0)?.ok).toBe(true);
  });

  it('each missing scope is its own warning; an invalid token is one refused check', () => {
    const checks = tokenChecks({ ...valid, scopes: [] }, NOW);
    expect(checks.map(warningOf).filter(Boolean)).toEqual([
      'missing_permission:pages_messaging',
      'missing_permission:pages_manage_metadata',
    ]);
    expect(tokenChecks({ ...valid, isValid: false, error: 'revoked' }, NOW)).toEqual([
      expect.objectContaining({ name: 'token', ok: false, detail: expect.stringContaining('revoked') }),
    ]);
  });
});

describe('subscription check', () => {
  it('maps the page outcomes: repaired is ok, throttled is not', () => {
    expect(subscriptionCheck({ pageId: '1', result: 'repaired', status: 'active' }).ok).toBe(true);
    expect(
      subscriptionCheck({ pageId: '1', result: 'retry', status: 'active', reason: 'throttled' }).ok,
    ).toBe(false);
    expect(subscriptionCheck({ pageId: '1', result: 'missing', status: 'active', reason: 'x' }).fix).toBe(
      'npx pagewire doctor --repair',
    );
  });
});

const record = (changes: Partial<PageRecord> = {}): PageRecord => ({
  pageId: '1',
  name: 'P',
  status: 'active',
  subscribedFields: [],
  connectedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...changes,
});

describe('carried token checks (a run that does not introspect)', () => {
  it('say what the last introspection found, as of when', () => {
    const page = record({
      tokenCheckedAt: '2026-11-30T10:00:00.000Z',
      warnings: ['missing_permission:pages_manage_metadata', 'token_expires_soon', 'quiet'],
    });
    const checks = carriedTokenChecks(page, 'introspected about once a day');
    expect(checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([
      'permission:pages_manage_metadata',
      'data_access',
    ]);
    expect(findingsOf(checks).map((f) => f.warning)).toEqual([
      'missing_permission:pages_manage_metadata',
      'token_expires_soon',
    ]);
    expect(checks[0]?.detail).toMatch(/as of 2026-11-30T10:00:00.000Z/);
  });

  it('a token never introspected is one ok check that says so', () => {
    expect(carriedTokenChecks(record(), 'deferred')).toEqual([
      { name: 'token', ok: true, detail: 'deferred; not introspected yet' },
    ]);
  });
});

describe('the events check and the listed warnings', () => {
  const now = Date.parse('2026-11-30T12:00:00.000Z');
  const daily = (hoursAgo: number) => {
    const last = now - hoursAgo * 3_600_000;
    const slots = Object.fromEntries(
      [0, 1, 2, 3, 4].map((d) => [`eventDay${(dayOf(last) - d) % 7}`, dayOf(last) - d]),
    );
    return record({ lastEventAt: new Date(last).toISOString(), ...slots });
  };

  it('quiet after 24 h without events for a daily page that is subscribed', () => {
    expect(eventsCheck(daily(25), now, true)).toMatchObject({ name: 'events', ok: false });
    expect(warningOf(eventsCheck(daily(25), now, true))).toBe('quiet');
    expect(eventsCheck(daily(25), now, false).ok).toBe(true);
    expect(eventsCheck(daily(2), now, true).ok).toBe(true);
    expect(eventsCheck(record(), now, true)).toEqual({
      name: 'events',
      ok: true,
      detail: 'no webhook event yet',
    });
  });

  it('GET /admin/pages computes quiet now, from the stored status, and keeps the stored rest', () => {
    expect(listedWarnings({ ...daily(30), warnings: ['token_expires_soon'] }, now)).toEqual([
      'token_expires_soon',
      'quiet',
    ]);
    // A stored quiet that is over (an event since) is not listed.
    expect(listedWarnings({ ...daily(1), warnings: ['quiet'] }, now)).toEqual([]);
    expect(listedWarnings({ ...daily(30), status: 'subscription_failed' }, now)).toEqual([]);
  });
});

describe("Meta's usage headers", () => {
  const headers = (h: Record<string, string>) => new Headers(h);

  it('the highest percentage of X-App-Usage and X-Business-Use-Case-Usage', () => {
    expect(
      usagePercent(headers({ 'x-app-usage': '{"call_count":12,"total_cputime":85,"total_time":3}' })),
    ).toBe(85);
    expect(
      usagePercent(
        headers({
          'x-app-usage': '{"call_count":12}',
          'x-business-use-case-usage':
            '{"1234":[{"type":"pages","call_count":91,"total_cputime":2,"total_time":2,"estimated_time_to_regain_access":0}]}',
        }),
      ),
    ).toBe(91);
  });

  it('nothing readable: undefined', () => {
    expect(usagePercent(headers({}))).toBeUndefined();
    expect(usagePercent(headers({ 'x-app-usage': 'not json' }))).toBeUndefined();
    expect(usagePercent(headers({ 'x-business-use-case-usage': '{"1":"x"}' }))).toBeUndefined();
  });
});
