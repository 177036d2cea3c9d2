/**
 * The Graph emulator's Instagram side (SPEC §11): Instagram professional accounts linked to pages, the
 * `instagram_business_account{id,username}` field of a page node, IGSIDs (Instagram-scoped ids: one per
 * person per account, never equal to the person's PSIDs), `GET /{igsid}` profiles, and which page's
 * `/messages` may send to an IGSID. Rules as Meta's: only the linked page's token sees an account's
 * field and its people, and a send to an IGSID goes through the linked page.
 * Hooked into emulator.ts with a few lines; it never logs.
 */
import { createHash } from 'node:crypto';
import { fail, pick } from './meta.js';

export interface InstagramAccount {
  id: string;
  username: string;
}

/** What the field list of `GET /{page-id}?fields=…` asks for, `instagram_business_account{…}` included. */
const ACCOUNT_FIELD = /^instagram_business_account(?:\{([^}]*)\})?$/;

export class InstagramAccounts {
  /** Account by id, with the page it is linked to. */
  private readonly accounts = new Map<string, InstagramAccount & { pageId: string }>();

  /** Links an Instagram professional account to a page (one per page, as Meta). */
  link(pageId: string, account: InstagramAccount): void {
    for (const [id, a] of this.accounts) if (a.pageId === pageId) this.accounts.delete(id);
    this.accounts.set(account.id, { ...account, pageId });
  }

  /** The account linked to the page, if any. */
  ofPage(pageId: string): InstagramAccount | undefined {
    for (const a of this.accounts.values())
      if (a.pageId === pageId) return { id: a.id, username: a.username };
    return undefined;
  }

  /** The person's IGSID on that account: different per account (and from every PSID), stable. */
  igsid(personKey: string, accountId: string): string {
    if (!this.accounts.has(accountId)) throw new Error(`Unknown Instagram account ${accountId}`);
    return igsidOf(personKey, accountId);
  }

  /** The person and account of an IGSID, among the persons given. */
  owner(
    igsid: string,
    personKeys: Iterable<string>,
  ): { personKey: string; accountId: string; pageId: string } | undefined {
    for (const personKey of personKeys) {
      for (const a of this.accounts.values()) {
        if (this.igsid(personKey, a.id) === igsid) return { personKey, accountId: a.id, pageId: a.pageId };
      }
    }
    return undefined;
  }

  /**
   * `GET /{page-id}?fields=…` when the fields name `instagram_business_account`: only with that page's
   * token (`tokenPageId`). Answers undefined when the fields do not name it (the emulator answers then).
   */
  pageNode(
    page: { id: string; name: string },
    fields: string | undefined,
    tokenPageId: string | undefined,
  ): Record<string, unknown> | undefined {
    const wanted = splitFields(fields);
    const asked = wanted.map((f) => ACCOUNT_FIELD.exec(f)).find((m) => m !== null);
    if (!asked) return undefined;
    if (tokenPageId !== page.id)
      fail(200, '(#200) Requires pages_read_engagement permission and a page token of this page', undefined);
    const rest = wanted.filter((f) => !ACCOUNT_FIELD.test(f)).join(',');
    const out = rest ? pick({ name: page.name, id: page.id }, rest, 'Page') : { id: page.id };
    const account = this.ofPage(page.id);
    // Meta leaves the field out when the page has no linked account.
    if (account) out.instagram_business_account = pick({ ...account }, asked[1] || 'id', 'IGUser', ['id']);
    return out;
  }

  /** `GET /{igsid}?fields=name,username,profile_pic`, with the linked page's token only. */
  profile(
    igsid: string,
    owner: { personKey: string; pageId: string },
    person: { first: string; last: string } | undefined,
    fields: string | undefined,
    tokenPageId: string | undefined,
  ): Record<string, unknown> {
    if (tokenPageId !== owner.pageId) fail(100, `(#100) Unsupported get request. Object with ID '${igsid}'`);
    const username = `${person?.first ?? 'someone'}.${person?.last ?? ''}`.toLowerCase().replace(/\.$/, '');
    const node = {
      id: igsid,
      name: person ? `${person.first} ${person.last}` : undefined,
      username,
      profile_pic: `https://scontent.cdninstagram.com/v/t51.2885-19/${igsid}_n.jpg`,
    };
    return pick(node, fields, 'IGUser', ['name', 'username', 'profile_pic']);
  }
}

/**
 * The IGSID the emulator gives a person on an account: derived, so a tool outside the emulator's
 * process (`npm run send-test-webhook`) can write as the demo person. 17 digits starting with 17, like
 * real IGSIDs; the emulator's PSIDs have 16.
 */
export function igsidOf(personKey: string, accountId: string): string {
  const hex = createHash('sha256').update(`igsid:${personKey}:${accountId}`).digest('hex');
  return `17${String(BigInt(`0x${hex.slice(0, 15)}`) % 10n ** 15n).padStart(15, '0')}`;
}

function splitFields(fields: string | undefined): string[] {
  if (!fields) return [];
  // Commas inside `{…}` belong to the nested field list.
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of fields) {
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (c === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += c;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}
