import * as z from 'zod/mini';

/*
 * The doctor's answer (SPEC §9): `GET /admin/doctor`, `POST /admin/doctor/repair` and
 * `npx pagewire doctor --json` all speak it. A check says what it looked at, whether it is fine, what
 * it found, and (when not fine) what to do.
 */

export const DoctorCheck = z.object({
  name: z.string(),
  ok: z.boolean(),
  detail: z.string(),
  fix: z.optional(z.string()),
});
export type DoctorCheck = z.infer<typeof DoctorCheck>;

export const DoctorPage = z.object({ pageId: z.string(), name: z.string(), checks: z.array(DoctorCheck) });
export type DoctorPage = z.infer<typeof DoctorPage>;

export const DoctorReport = z.object({
  ok: z.boolean(),
  app: z.array(DoctorCheck),
  pages: z.array(DoctorPage),
});
export type DoctorReport = z.infer<typeof DoctorReport>;

/**
 * What the ops function answers for a doctor run (`aws lambda invoke`, the schedule): the report with
 * only the pages that have a problem (10,000 healthy pages would outgrow an invoke's answer), and how
 * many pages were checked.
 */
export const DoctorSummary = z.object({ ...DoctorReport.shape, checkedPages: z.number() });
export type DoctorSummary = z.infer<typeof DoctorSummary>;

export function summaryOf(report: DoctorReport): DoctorSummary {
  const pages = report.pages.filter((p) => p.checks.some((c) => !c.ok));
  return { ok: report.ok, app: report.app, pages, checkedPages: report.pages.length };
}

/** The permissions a page token needs: sending (`pages_messaging`) and subscribing (`pages_manage_metadata`). */
export const REQUIRED_SCOPES = ['pages_messaging', 'pages_manage_metadata'] as const;

/** What an Instagram entry needs of its linked page's token: reading the account and its messages. */
export const INSTAGRAM_SCOPES = ['instagram_basic', 'instagram_manage_messages'] as const;

/** The permissions the token an entry uses must hold: its page's own, or Instagram's for an entry. */
export function requiredScopes(page: { channel?: string }): readonly string[] {
  return page.channel === 'instagram' ? INSTAGRAM_SCOPES : REQUIRED_SCOPES;
}

/** Data access that lapses sooner than this is worth a warning (SPEC §9). */
export const DATA_ACCESS_WARN_DAYS = 14;

/** The names of the checks, each with the warning (SPEC §9) its failure stands for, when it has one. */
export const CHECK = {
  appWebhook: 'app_webhook',
  appCallbackUrl: 'app_callback_url',
  appFields: 'app_fields',
  /** The app's `instagram` webhook, checked when an Instagram account is connected (SPEC §11). */
  instagramWebhook: 'instagram_webhook',
  instagramCallbackUrl: 'instagram_callback_url',
  instagramFields: 'instagram_fields',
  subscription: 'subscription',
  token: 'token',
  permission: (scope: string) => `permission:${scope}`,
  dataAccess: 'data_access',
  /** Liveness: the page's last webhook event (pages/page-liveness.ts); failed = quiet. */
  events: 'events',
} as const;

/** A scheduled run introspects a page token when its last introspection is older than this (spread load). */
export const TOKEN_CHECK_EVERY_MS = 23 * 3_600_000;
/** Above this rate-limit usage (percent, from Meta's headers) a run defers the token checks left. */
export const USAGE_DEFER_PERCENT = 80;

/** A failed check's warning as `GET /admin/pages` is to list it (SPEC §9), or undefined. */
export function warningOf(check: DoctorCheck): string | undefined {
  if (check.ok) return undefined;
  if (check.name === CHECK.dataAccess) return 'token_expires_soon';
  if (check.name.startsWith('permission:'))
    return `missing_permission:${check.name.slice('permission:'.length)}`;
  if (check.name === CHECK.appWebhook) return 'app_subscription_missing';
  if (check.name === CHECK.events) return 'quiet';
  return undefined;
}
