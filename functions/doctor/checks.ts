/**
 * The doctor's checks as pure functions of what Meta and the page records say (SPEC §9): no I/O here,
 * so every verdict and its wording is tested without a Graph API.
 */
import {
  CHECK,
  DATA_ACCESS_WARN_DAYS,
  type DoctorCheck,
  REQUIRED_SCOPES,
  requiredScopes,
  warningOf,
} from '#contracts/doctor';
import type { PageRecord } from '#contracts/page-record';
import type { AppSubscription, TokenInfo } from '#graph/graph-client';
import type { PageOutcome } from '#pages/outcome';
import { activeDays, isQuiet } from '#pages/page-liveness';

const DAY_SECONDS = 86_400;
const REPAIR = 'npx pagewire doctor --repair';
const RECONNECT = 'connect the page again with a fresh user token (POST /admin/pages/connect)';

export interface AppExpectation {
  /** This deployment's webhook URL; undefined when it is not configured. */
  callbackUrl?: string;
  fields: readonly string[];
}

/** The objects the app subscribes webhooks for: Messenger's `page`, Instagram's `instagram`. */
export type AppObject = 'page' | 'instagram';

const APP_CHECKS = {
  page: { webhook: CHECK.appWebhook, callback: CHECK.appCallbackUrl, fields: CHECK.appFields },
  instagram: {
    webhook: CHECK.instagramWebhook,
    callback: CHECK.instagramCallbackUrl,
    fields: CHECK.instagramFields,
  },
} as const;

/**
 * The app's webhook of `object` against this deployment: present and active, our callback, every field.
 * Meta delivers a field only when it is subscribed at app level too.
 */
export function appChecks(
  subscriptions: readonly AppSubscription[],
  want: AppExpectation,
  object: AppObject = 'page',
): DoctorCheck[] {
  const names = APP_CHECKS[object];
  const found = subscriptions.find((s) => s.object === object);
  if (!found) {
    const none = `the app has no ${object} webhook`;
    return [
      { name: names.webhook, ok: false, detail: `${none}: Meta delivers no ${object} event`, fix: REPAIR },
      { name: names.callback, ok: false, detail: none, fix: REPAIR },
      { name: names.fields, ok: false, detail: none, fix: REPAIR },
    ];
  }
  return [
    webhookCheck(found, object),
    callbackCheck(found, want.callbackUrl, object),
    fieldsCheck(found, want.fields, object),
  ];
}

/** The check of `object` named as the callback check (the repair that would move the webhook). */
export function callbackCheckName(object: AppObject): string {
  return APP_CHECKS[object].callback;
}

function webhookCheck(found: AppSubscription, object: AppObject): DoctorCheck {
  const name = APP_CHECKS[object].webhook;
  if (found.active) return { name, ok: true, detail: `${object} webhook active` };
  return {
    name,
    ok: false,
    detail: `Meta disabled the ${object} webhook (deliveries failed for too long)`,
    fix: REPAIR,
  };
}

function callbackCheck(found: AppSubscription, expected: string | undefined, object: AppObject): DoctorCheck {
  const name = APP_CHECKS[object].callback;
  const actual = found.callbackUrl ?? '(none)';
  if (!expected)
    return {
      name,
      ok: false,
      detail: `callback ${actual}; this deployment's webhook URL is not configured`,
      fix: 'set WEBHOOK_URL (PUBLIC_URL locally) to the public URL of /webhooks/facebook',
    };
  if (found.callbackUrl === expected) return { name, ok: true, detail: `callback ${expected}` };
  return { name, ok: false, detail: `callback ${actual}, not this deployment's ${expected}`, fix: REPAIR };
}

function fieldsCheck(found: AppSubscription, fields: readonly string[], object: AppObject): DoctorCheck {
  const name = APP_CHECKS[object].fields;
  const missing = fields.filter((f) => !found.fields.includes(f));
  if (!missing.length) return { name, ok: true, detail: `every ${object} field` };
  return { name, ok: false, detail: `missing ${missing.join(', ')}`, fix: REPAIR };
}

export const APP_UNREADABLE = 'could not read the app webhook';
export const TOKEN_UNREADABLE = 'could not introspect the token';

/** The app webhook could not be read at all (credentials refused, Meta down). */
export function appUnreadable(message: string, auth: boolean): DoctorCheck[] {
  const fix = auth
    ? 'check FB_APP_ID and FB_APP_SECRET (the app secret in Secrets Manager on AWS)'
    : 'run the doctor again later';
  return [{ name: CHECK.appWebhook, ok: false, detail: `${APP_UNREADABLE}: ${message}`, fix }];
}

/** The page-level subscription, as the existing check (pages/subscriptions.ts) came out. */
export function subscriptionCheck(outcome: PageOutcome): DoctorCheck {
  const name = CHECK.subscription;
  switch (outcome.result) {
    case 'done':
      return { name, ok: true, detail: 'subscribed with every default field' };
    case 'repaired':
      return { name, ok: true, detail: 'was missing: subscribed again' };
    case 'missing':
      return { name, ok: false, detail: outcome.reason, fix: REPAIR };
    case 'retry':
      return {
        name,
        ok: false,
        detail: `Meta did not answer: ${outcome.reason}`,
        fix: 'run the doctor again later',
      };
    case 'refused':
      return outcome.status === 'reauth_required'
        ? { name, ok: false, detail: 'not checked: the page token is refused', fix: RECONNECT }
        : { name, ok: false, detail: `Meta refused: ${outcome.reason}`, fix: REPAIR };
    case 'skipped':
      // An Instagram entry (SPEC §11): Meta delivers its events through its page's subscription.
      if (outcome.reason === 'subscribed_through_page')
        return { name, ok: true, detail: 'subscribed through its linked page' };
      return outcome.reason === 'needs_reauth'
        ? { name, ok: false, detail: 'not checked: the page token is refused', fix: RECONNECT }
        : { name, ok: false, detail: `not checked: ${outcome.reason}` };
    case 'error':
      return {
        name,
        ok: false,
        detail: `check failed: ${outcome.reason}`,
        fix: 'run the doctor again later',
      };
  }
}

/** A page whose token Meta refused: one check, with the way out. */
export function tokenRefused(reason: string | undefined): DoctorCheck {
  return {
    name: CHECK.token,
    ok: false,
    detail: `Meta refused the page token${reason ? `: ${reason}` : ''} (page needs reauth)`,
    fix: RECONNECT,
  };
}

/** A valid token's permissions and data-access expiry; `nowSeconds` in epoch seconds. */
export function tokenChecks(
  info: TokenInfo,
  nowSeconds: number,
  scopes: readonly string[] = REQUIRED_SCOPES,
): DoctorCheck[] {
  if (!info.isValid) return [tokenRefused(info.error)];
  const checks: DoctorCheck[] = [{ name: CHECK.token, ok: true, detail: 'valid' }];
  for (const scope of scopes) {
    const name = CHECK.permission(scope);
    checks.push(
      info.scopes.includes(scope)
        ? { name, ok: true, detail: 'granted' }
        : { name, ok: false, detail: `the token lacks ${scope}`, fix: `${RECONNECT}, granting ${scope}` },
    );
  }
  checks.push(dataAccessCheck(info.dataAccessExpiresAt, nowSeconds));
  return checks;
}

function dataAccessCheck(expiresAt: number | undefined, now: number): DoctorCheck {
  const name = CHECK.dataAccess;
  if (!expiresAt) return { name, ok: true, detail: 'no data-access expiry' };
  const days = Math.floor((expiresAt - now) / DAY_SECONDS);
  const date = new Date(expiresAt * 1000).toISOString().slice(0, 10);
  if (expiresAt - now > DATA_ACCESS_WARN_DAYS * DAY_SECONDS)
    return { name, ok: true, detail: `data access until ${date} (${days} days)` };
  const fix = 'a page admin logs in through Facebook Login again (connect the page again): 90 more days';
  if (expiresAt <= now) return { name, ok: false, detail: `data access expired on ${date}`, fix };
  return { name, ok: false, detail: `data access ends on ${date} (in ${days} days)`, fix };
}

/** Introspection failed (throttled past the retries, Meta down): unknown, not fine. */
export function tokenUnreadable(message: string): DoctorCheck {
  return {
    name: CHECK.token,
    ok: false,
    detail: `${TOKEN_UNREADABLE}: ${message}`,
    fix: 'run the doctor again later',
  };
}

/**
 * The token checks of a run that did not introspect the token (it was introspected less than a day ago,
 * or Meta's usage headers asked to slow down): what the last introspection found, carried over from the
 * page's stored warnings, said as such.
 */
export function carriedTokenChecks(page: PageRecord, why: string): DoctorCheck[] {
  const stored = new Set(page.warnings ?? []);
  const asOf = page.tokenCheckedAt ? `as of ${page.tokenCheckedAt}` : 'not introspected yet';
  const checks: DoctorCheck[] = [{ name: CHECK.token, ok: true, detail: `${why}; ${asOf}` }];
  if (!page.tokenCheckedAt) return checks;
  for (const scope of requiredScopes(page)) {
    const name = CHECK.permission(scope);
    checks.push(
      stored.has(`missing_permission:${scope}`)
        ? {
            name,
            ok: false,
            detail: `the token lacks ${scope} (${asOf})`,
            fix: `${RECONNECT}, granting ${scope}`,
          }
        : { name, ok: true, detail: `granted (${asOf})` },
    );
  }
  checks.push(
    stored.has('token_expires_soon')
      ? {
          name: CHECK.dataAccess,
          ok: false,
          detail: `data access ends within ${DATA_ACCESS_WARN_DAYS} days (${asOf})`,
          fix: 'a page admin logs in through Facebook Login again (connect the page again): 90 more days',
        }
      : {
          name: CHECK.dataAccess,
          ok: true,
          detail: `more than ${DATA_ACCESS_WARN_DAYS} days left (${asOf})`,
        },
  );
  return checks;
}

/** Liveness (SPEC §9 `quiet`); `subscribed`: this run found the page subscribed at Meta. */
export function eventsCheck(page: PageRecord, nowMs: number, subscribed: boolean): DoctorCheck {
  const name = CHECK.events;
  if (!page.lastEventAt) return { name, ok: true, detail: 'no webhook event yet' };
  const hours = Math.floor((nowMs - Date.parse(page.lastEventAt)) / 3_600_000);
  if (!isQuiet(page, nowMs, subscribed))
    return { name, ok: true, detail: `last event ${page.lastEventAt} (${hours} h ago)` };
  return {
    name,
    ok: false,
    detail:
      `no event for ${hours} h (last ${page.lastEventAt}) although it had events on ` +
      `${activeDays(page)} of 7 days before, and Meta lists its subscription`,
    fix:
      'send the page a test message; if nothing arrives, check the page in Meta Business Suite ' +
      '(unpublished, restricted, another app in the handover protocol) and the app webhook (npx pagewire doctor)',
  };
}

/** A warning (SPEC §9) with what was found and what to do, as `page.warning` carries it. */
export interface Finding {
  warning: string;
  detail: string;
  fix?: string;
}

/** The warnings the failed checks stand for, once each, in check order. */
export function findingsOf(checks: readonly DoctorCheck[]): Finding[] {
  const found = new Map<string, Finding>();
  for (const check of checks) {
    const warning = warningOf(check);
    if (warning && !found.has(warning))
      found.set(warning, { warning, detail: check.detail, ...(check.fix ? { fix: check.fix } : {}) });
  }
  return [...found.values()];
}
