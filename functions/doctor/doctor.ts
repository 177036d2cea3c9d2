/**
 * The doctor (SPEC §9): the app's webhook and every connected page (subscription, token validity,
 * permissions, data-access expiry), with what to do for each problem; `repair` fixes what it can (the
 * app webhook by `POST /{app-id}/subscriptions`, page subscriptions through the page operations).
 * Pages run with bounded concurrency; one page's failure is that page's check, never the run's.
 */
import pMap from 'p-map';
import { DEFAULT_SUBSCRIBED_FIELDS, INSTAGRAM_SUBSCRIBED_FIELDS } from '#contracts/config';
import {
  CHECK,
  type DoctorCheck,
  type DoctorPage,
  type DoctorReport,
  requiredScopes,
  USAGE_DEFER_PERCENT,
} from '#contracts/doctor';
import type { PageRecord } from '#contracts/page-record';
import type { AppSubscription, GraphClient } from '#graph/graph-client';
import { GraphError } from '#graph/graph-error';
import type { PageAccess } from '#pages/page-access';
import { warningEvent } from '#pages/page-events';
import type { PageRepository } from '#pages/page-repository';
import type { PageOperations } from '#pages/subscriptions';
import { type Deadline, NO_DEADLINE } from '#runtime/deadline';
import { count, logger } from '#runtime/observability';
import {
  APP_UNREADABLE,
  type AppObject,
  appChecks,
  appUnreadable,
  callbackCheckName,
  carriedTokenChecks,
  eventsCheck,
  type Finding,
  findingsOf,
  subscriptionCheck,
  TOKEN_UNREADABLE,
  tokenChecks,
  tokenRefused,
  tokenUnreadable,
} from './checks.js';

const APP_WARNING = 'app_subscription_missing';

export interface DoctorDeps {
  graph: GraphClient;
  pages: PageRepository;
  access: PageAccess;
  operations: PageOperations;
  /** The verify token Meta's handshake is to send (the verifier answers it). */
  verifyToken: string;
  /** This deployment's webhook URL: locally PUBLIC_URL + path, on AWS WEBHOOK_URL. */
  webhookUrl?: string;
  /** Pages checked at once (PAGE_OPS_CONCURRENCY). */
  concurrency: number;
  fields?: readonly string[];
  now?: () => number;
  /**
   * Introspect a page token only when its last introspection is older than this (the scheduled run:
   * about once a day per page, so 10,000 pages cost ~420 `/debug_token` calls an hour, not 10,000).
   * Unset: every run introspects every token (a person asking).
   */
  tokenCheckEveryMs?: number;
}

/** What one run shares between its pages. */
interface Run {
  /** The run's time: the first-seen time of the warnings it finds (their events' ids). */
  at: string;
  nowMs: number;
  /**
   * The app-level warnings: they apply to every page (SPEC §9). Undefined when the app webhook could
   * not be read: each page then keeps what it had (an outage is no news of the webhook either way).
   */
  appFindings?: Finding[];
}

export interface DoctorOptions {
  repair: boolean;
  /**
   * The repair may point the app's webhook here when Meta has it pointing at another URL. Only a person
   * asking does that (`doctor --repair`): Meta keeps one callback per app, so a scheduled run that did it
   * would take the webhooks from another deployment of the same app (a laptop on a tunnel, the cloud),
   * which would take them back an hour later.
   */
  repoint?: boolean;
  deadline?: Deadline;
}

export async function runDoctor(
  deps: DoctorDeps,
  { repair, repoint = false, deadline = NO_DEADLINE }: DoctorOptions,
): Promise<DoctorReport> {
  const fields = deps.fields ?? DEFAULT_SUBSCRIBED_FIELDS;
  const nowMs = (deps.now ?? Date.now)();
  const connected = (await deps.pages.list()).filter((p) => p.status !== 'disconnected');
  const wants: AppWant[] = [
    { object: 'page', fields },
    ...(connected.some((p) => p.channel === 'instagram')
      ? [{ object: 'instagram' as const, fields: INSTAGRAM_SUBSCRIBED_FIELDS }]
      : []),
  ];
  const app = await appLevel(deps, wants, { repair, repoint }, deadline);
  const appRead = !app.some((c) => c.detail.startsWith(APP_UNREADABLE));
  const run: Run = {
    at: new Date(nowMs).toISOString(),
    nowMs,
    appFindings: appRead ? findingsOf(app) : undefined,
  };
  const pages = await pMap(
    connected,
    async (page) => {
      const found = await pageLevel(deps, page, repair, run, deadline);
      if (found.record) await recordFindings(deps, page, found, run, deadline);
      return found.page;
    },
    { concurrency: Math.max(1, Math.floor(deps.concurrency)) },
  );
  pages.sort((a, b) => a.pageId.localeCompare(b.pageId));
  const ok = [...app, ...pages.flatMap((p) => p.checks)].every((c) => c.ok);
  count(ok ? 'DoctorHealthy' : 'DoctorProblems');
  return { ok, app, pages };
}

/** One webhook of the app the doctor wants: its object and fields. */
interface AppWant {
  object: AppObject;
  fields: readonly string[];
}

/**
 * The app's webhooks (SPEC §9): `page` always, `instagram` when an Instagram account is connected.
 * With `repair`, each one not right is subscribed again (Meta then calls our handshake); one that Meta
 * has on another URL only when a person asked (`repoint`).
 */
async function appLevel(
  deps: DoctorDeps,
  wants: readonly AppWant[],
  { repair, repoint }: { repair: boolean; repoint: boolean },
  deadline: Deadline,
): Promise<DoctorCheck[]> {
  let subscriptions: AppSubscription[] = [];
  const checksOf = (want: AppWant) =>
    appChecks(subscriptions, { callbackUrl: deps.webhookUrl, fields: want.fields }, want.object);
  const read = async () => {
    subscriptions = await deps.graph.appSubscriptions({ deadline });
    return wants.flatMap(checksOf);
  };
  let checks: DoctorCheck[];
  try {
    checks = await read();
  } catch (err) {
    return appUnreadable(messageOf(err), err instanceof GraphError && err.errorClass === 'auth');
  }
  const webhookUrl = deps.webhookUrl;
  if (!repair || checks.every((c) => c.ok) || !webhookUrl) return checks;
  if (!deps.verifyToken)
    return checks.map((c) =>
      c.ok ? c : { ...c, fix: "set FB_VERIFY_TOKEN (the verifier answers Meta's handshake with it)" },
    );
  const broken = wants.filter((w) => checksOf(w).some((c) => !c.ok));
  // Meta has this webhook on another URL (a missing one any repair may set).
  const elsewhere = (w: AppWant) => {
    const callback = subscriptions.find((s) => s.object === w.object)?.callbackUrl;
    return callback !== undefined && callback !== webhookUrl;
  };
  const left = repoint ? [] : broken.filter(elsewhere);
  const failures = new Map<AppObject, string>();
  for (const want of broken.filter((w) => !left.includes(w))) {
    try {
      await deps.graph.subscribeAppWebhook(
        { object: want.object, callbackUrl: webhookUrl, verifyToken: deps.verifyToken, fields: want.fields },
        { deadline },
      );
      count('AppWebhookRepaired');
      logger.info('app webhook subscribed', { object: want.object, callbackUrl: webhookUrl });
    } catch (err) {
      logger.warn('app webhook repair failed', { object: want.object, error: messageOf(err) });
      failures.set(want.object, messageOf(err));
    }
  }
  // What Meta says now, not what we hope it took.
  if (failures.size < broken.length - left.length) {
    try {
      checks = await read();
    } catch (err) {
      return appUnreadable(messageOf(err), err instanceof GraphError && err.errorClass === 'auth');
    }
  }
  return wants.flatMap((want) =>
    checksOf(want).map((c) => {
      if (c.ok) return c;
      const failed = failures.get(want.object);
      if (failed) return { ...c, detail: `${c.detail}; repair failed: ${failed}` };
      if (left.includes(want) && c.name === callbackCheckName(want.object))
        return { ...c, fix: `${REPOINT_FIX} (runs on a schedule never take the webhook from another URL)` };
      return c;
    }),
  );
}

const REPOINT_FIX =
  'npx pagewire doctor --repair points it here: Meta keeps one callback per app, so the other URL stops receiving';

/** A page's checks, and whether its warnings are to be recorded (not when the run could not look). */
interface PageFound {
  page: DoctorPage;
  record: boolean;
  /** Set when this run introspected the token. */
  tokenCheckedAt?: string;
}

async function pageLevel(
  deps: DoctorDeps,
  page: PageRecord,
  repair: boolean,
  run: Run,
  deadline: Deadline,
): Promise<PageFound> {
  const { pageId, name } = page;
  const result = (checks: DoctorCheck[], tokenCheckedAt?: string): PageFound => ({
    page: { pageId, name, checks },
    record: true,
    tokenCheckedAt,
  });
  try {
    if (page.status === 'reauth_required') return result([tokenRefused(page.lastError)]);
    const outcome = await deps.operations.check(pageId, repair, deadline, page);
    const subscription = subscriptionCheck(outcome);
    if ('status' in outcome && outcome.status === 'reauth_required')
      return result([subscription, tokenRefused('reason' in outcome ? outcome.reason : undefined)]);
    // Quiet only while Meta lists the subscription as it should be (not one just repaired).
    // Meta did not answer the subscription check: liveness unknown, a quiet page stays quiet.
    const unknown = outcome.result === 'retry' || outcome.result === 'error';
    const stillQuiet = eventsCheck(page, run.nowMs, true);
    const events =
      unknown && page.warnings?.includes('quiet') && !stillQuiet.ok
        ? stillQuiet
        : eventsCheck(page, run.nowMs, outcome.result === 'done');
    // Most runs stop here: no read, no unseal (a KMS Decrypt on AWS), no /debug_token.
    const skip = skipIntrospection(deps, page, run.nowMs);
    if (skip) return result([subscription, ...carriedTokenChecks(page, skip), events]);
    // The record as the check left it: a token replaced meanwhile is the one to look at.
    const now = (await deps.pages.get(pageId)) ?? page;
    const token = await deps.access.token(now);
    if (!token) return result([subscription, tokenRefused(now.lastError)]);
    const checks = await tokenLevel(deps, now, token, deadline);
    if (checks.some((c) => c.detail.startsWith(TOKEN_UNREADABLE))) {
      // What the last introspection found still stands: its warnings are not dropped (nor news again later).
      const carried = carriedTokenChecks(now, 'see above').filter((c) => c.name !== CHECK.token);
      return result([subscription, ...checks, ...carried, events]);
    }
    return result([subscription, ...checks, events], run.at);
  } catch (err) {
    logger.error('doctor: page check failed', { pageId, error: messageOf(err) });
    const failed = {
      name: 'page',
      ok: false,
      detail: `check failed: ${messageOf(err)}`,
      fix: 'run the doctor again later',
    };
    return { page: { pageId, name, checks: [failed] }, record: false };
  }
}

/** Introspection deferred for Graph usage never waits longer than this after the last one. */
const TOKEN_CHECK_OVERDUE_MS = 3 * 86_400_000;

/**
 * Why this run leaves the page's token alone, or undefined to introspect it: it was introspected less
 * than `tokenCheckEveryMs` ago (spread over the day), or Meta's usage headers report the app near its
 * rate limit (the checks left wait for the next run; the subscription checks go on).
 */
function skipIntrospection(deps: DoctorDeps, page: PageRecord, nowMs: number): string | undefined {
  const usage = deps.graph.usagePercent();
  // A token not looked at for days (since its connect, if never) is looked at whatever the usage:
  // sustained load must not hide an expiry for ever.
  const age = nowMs - Date.parse(page.tokenCheckedAt ?? page.connectedAt);
  if (usage !== undefined && usage > USAGE_DEFER_PERCENT && age < TOKEN_CHECK_OVERDUE_MS) {
    count('TokenChecksDeferred');
    return `introspection deferred to the next run (Graph usage at ${usage} %)`;
  }
  const every = deps.tokenCheckEveryMs;
  if (every === undefined || !page.tokenCheckedAt) return undefined;
  if (nowMs - Date.parse(page.tokenCheckedAt) >= every) return undefined;
  return 'introspected about once a day';
}

/**
 * Stores the page's warnings when they changed (or its token was introspected), with a `page.warning`
 * event for each warning new to the page, through the page's outbox (at least once, same id). A failed
 * write is logged and counted: the next run finds the same warnings new again.
 */
async function recordFindings(
  deps: DoctorDeps,
  page: PageRecord,
  found: PageFound,
  run: Run,
  deadline: Deadline,
): Promise<void> {
  const appFindings =
    run.appFindings ??
    (page.warnings?.includes(APP_WARNING) ? [{ warning: APP_WARNING, detail: 'as of an earlier run' }] : []);
  const findings = uniqueFindings([...appFindings, ...findingsOf(found.page.checks)]);
  const warnings = findings.map((f) => f.warning);
  const before = new Set(page.warnings ?? []);
  const fresh = findings.filter((f) => !before.has(f.warning));
  const same = fresh.length === 0 && warnings.length === before.size;
  if (same && !found.tokenCheckedAt) return;
  const events = fresh.map((f) => warningEvent(page, f, run.at));
  try {
    const stored = await deps.pages.recordWarnings(
      page.pageId,
      {
        warnings,
        checkedAt: run.at,
        tokenCheckedAt: found.tokenCheckedAt,
        events,
        readCheckedAt: page.warningsCheckedAt,
      },
      deadline,
    );
    if (stored && fresh.length) {
      count('PageWarnings', fresh.length);
      logger.warn('new page warnings', { pageId: page.pageId, warnings: fresh.map((f) => f.warning) });
    }
  } catch (err) {
    count('DoctorRecordFailed');
    logger.error('doctor: warnings not recorded', { pageId: page.pageId, error: messageOf(err) });
  }
}

function uniqueFindings(findings: Finding[]): Finding[] {
  const seen = new Map<string, Finding>();
  for (const f of findings) if (!seen.has(f.warning)) seen.set(f.warning, f);
  return [...seen.values()];
}

async function tokenLevel(
  deps: DoctorDeps,
  page: PageRecord,
  token: string,
  deadline: Deadline,
): Promise<DoctorCheck[]> {
  let info: Awaited<ReturnType<GraphClient['debugToken']>>;
  try {
    info = await deps.graph.debugToken(token, { deadline });
  } catch (err) {
    return [tokenUnreadable(messageOf(err))];
  }
  if (!info.isValid) {
    // The same path as a 190 on any call: the page waits for a human, its inbound events still stored.
    const refusal = new GraphError({
      operation: 'GET /debug_token',
      status: 200,
      code: 190,
      message: info.error ?? 'the page token is no longer valid',
    });
    await deps.access.markReauthRequired(page, refusal);
  }
  return tokenChecks(info, Math.floor((deps.now ?? Date.now)() / 1000), requiredScopes(page));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
