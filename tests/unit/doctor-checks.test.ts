import { describe, expect, it } from 'vitest';
import { DEFAULT_SUBSCRIBED_FIELDS } from '#contracts/config';
import { warningOf } from '#contracts/doctor';
import { appChecks, subscriptionCheck, tokenChecks } from '#doctor/checks';

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
