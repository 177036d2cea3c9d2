/**
 * The doctor (SPEC §9): the app's webhook and every connected page (subscription, token validity,
 * permissions, data-access expiry), with what to do for each problem; `repair` fixes what it can (the
 * app webhook by `POST /{app-id}/subscriptions`, page subscriptions through the page operations).
 * Pages run with bounded concurrency; one page's failure is that page's check, never the run's.
 */
import pMap from 'p-map';
import { DEFAULT_SUBSCRIBED_FIELDS } from '#contracts/config';
import type { DoctorCheck, DoctorPage, DoctorReport } from '#contracts/doctor';
import type { PageRecord } from '#contracts/page-record';
import type { GraphClient } from '#graph/graph-client';
import { GraphError } from '#graph/graph-error';
import type { PageAccess } from '#pages/page-access';
import type { PageRepository } from '#pages/page-repository';
import type { PageOperations } from '#pages/subscriptions';
import { type Deadline, NO_DEADLINE } from '#runtime/deadline';
import { count, logger } from '#runtime/observability';
import {
  appChecks,
  appUnreadable,
  subscriptionCheck,
  tokenChecks,
  tokenRefused,
  tokenUnreadable,
} from './checks.js';

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
}

export interface DoctorOptions {
  repair: boolean;
  deadline?: Deadline;
}

export async function runDoctor(
  deps: DoctorDeps,
  { repair, deadline = NO_DEADLINE }: DoctorOptions,
): Promise<DoctorReport> {
  const fields = deps.fields ?? DEFAULT_SUBSCRIBED_FIELDS;
  const app = await appLevel(deps, fields, repair, deadline);
  const connected = (await deps.pages.list()).filter((p) => p.status !== 'disconnected');
  const pages = await pMap(connected, (page) => pageLevel(deps, page, repair, deadline), {
    concurrency: Math.max(1, Math.floor(deps.concurrency)),
  });
  pages.sort((a, b) => a.pageId.localeCompare(b.pageId));
  const ok = [...app, ...pages.flatMap((p) => p.checks)].every((c) => c.ok);
  count(ok ? 'DoctorHealthy' : 'DoctorProblems');
  return { ok, app, pages };
}

async function appLevel(
  deps: DoctorDeps,
  fields: readonly string[],
  repair: boolean,
  deadline: Deadline,
): Promise<DoctorCheck[]> {
  const want = { callbackUrl: deps.webhookUrl, fields };
  const read = async () => appChecks(await deps.graph.appSubscriptions({ deadline }), want);
  let checks: DoctorCheck[];
  try {
    checks = await read();
  } catch (err) {
    return appUnreadable(messageOf(err), err instanceof GraphError && err.errorClass === 'auth');
  }
  if (!repair || checks.every((c) => c.ok) || !deps.webhookUrl) return checks;
  if (!deps.verifyToken)
    return checks.map((c) =>
      c.ok ? c : { ...c, fix: "set FB_VERIFY_TOKEN (the verifier answers Meta's handshake with it)" },
    );
  try {
    await deps.graph.subscribeAppWebhook(
      { callbackUrl: deps.webhookUrl, verifyToken: deps.verifyToken, fields },
      { deadline },
    );
    count('AppWebhookRepaired');
    logger.info('app webhook subscribed', { callbackUrl: deps.webhookUrl });
    // What Meta says now, not what we hope it took.
    return await read();
  } catch (err) {
    logger.warn('app webhook repair failed', { error: messageOf(err) });
    return checks.map((c) => (c.ok ? c : { ...c, detail: `${c.detail}; repair failed: ${messageOf(err)}` }));
  }
}

async function pageLevel(
  deps: DoctorDeps,
  page: PageRecord,
  repair: boolean,
  deadline: Deadline,
): Promise<DoctorPage> {
  const { pageId, name } = page;
  const result = (checks: DoctorCheck[]): DoctorPage => ({ pageId, name, checks });
  try {
    if (page.status === 'reauth_required') return result([tokenRefused(page.lastError)]);
    const outcome = await deps.operations.check(pageId, repair, deadline, page);
    const subscription = subscriptionCheck(outcome);
    if ('status' in outcome && outcome.status === 'reauth_required')
      return result([subscription, tokenRefused('reason' in outcome ? outcome.reason : undefined)]);
    // The record as the check left it: a token replaced meanwhile is the one to look at.
    const now = (await deps.pages.get(pageId)) ?? page;
    const token = await deps.access.token(now);
    if (!token) return result([subscription, tokenRefused(now.lastError)]);
    return result([subscription, ...(await tokenLevel(deps, now, token, deadline))]);
  } catch (err) {
    logger.error('doctor: page check failed', { pageId, error: messageOf(err) });
    return result([
      {
        name: 'page',
        ok: false,
        detail: `check failed: ${messageOf(err)}`,
        fix: 'run the doctor again later',
      },
    ]);
  }
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
  return tokenChecks(info, Math.floor((deps.now ?? Date.now)() / 1000));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
