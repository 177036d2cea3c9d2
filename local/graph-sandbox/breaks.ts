/**
 * Sandbox "break it" controls (local stack, sandbox mode only): make Meta's side go wrong the ways SPEC
 * §9 lists, so a person can watch `npx pagewire doctor` find each one and `--repair` fix what it can.
 */
import type { GraphEmulator } from './emulator.js';

export const BREAKS = [
  'app_webhook',
  'page_subscription',
  'token_scope',
  'token_expiry',
  'revoke_token',
] as const;
export type Break = (typeof BREAKS)[number];

const DAY_S = 86_400;

/** What a break did and what the doctor is to say about it. */
export interface Broken {
  what: Break;
  pageId?: string;
  done: string;
  expect: string;
}

/** Breaks `what` on the emulator (for `pageId` when it is a page's); answers what to look for. */
export function breakSandbox(fake: GraphEmulator, what: Break, pageId: string): Broken {
  switch (what) {
    case 'app_webhook': {
      const webhook = fake.appWebhook();
      if (!webhook)
        return { what, done: 'the app has no page webhook yet', expect: 'app_webhook ✗; --repair makes it' };
      fake.setAppWebhook({ ...webhook, active: false });
      return {
        what,
        done: 'Meta disabled the app page webhook (as after an hour of failed deliveries)',
        expect: 'app_webhook ✗ and app_subscription_missing on every page; --repair subscribes it again',
      };
    }
    case 'page_subscription':
      fake.unsubscribeSilently(pageId);
      return {
        what,
        pageId,
        done: 'Meta dropped the page subscription without telling',
        expect: 'subscription ✗; --repair subscribes the page again',
      };
    case 'token_scope':
      fake.dropScope(pageId, 'pages_messaging');
      return {
        what,
        pageId,
        done: 'the page token lost pages_messaging',
        expect:
          'permission:pages_messaging ✗ (missing_permission:pages_messaging); fix: connect the page again',
      };
    case 'token_expiry':
      fake.setTokenDetails(pageId, { dataAccessExpiresAt: Math.floor(Date.now() / 1000) + 3 * DAY_S });
      return {
        what,
        pageId,
        done: "the page token's data access ends in 3 days",
        expect: 'data_access ✗ (token_expires_soon); fix: connect the page again',
      };
    case 'revoke_token':
      fake.revokePageToken(pageId);
      return {
        what,
        pageId,
        done: 'the page token was revoked (as when an admin changes their password)',
        expect: 'token ✗, the page reauth_required; fix: connect the page again',
      };
  }
}
