/**
 * The demo data of the local stack's sandbox mode (`npm start` without a Facebook app): the Graph
 * emulator with two demo pages, a user managing both, the café's linked Instagram professional account,
 * and Ada Lovelace with a PSID on each page and an IGSID on the Instagram account.
 */
import { randomBytes } from 'node:crypto';
import { type DemoPage, GraphEmulator } from './emulator.js';
import { igsidOf } from './instagram.js';

export type { DemoPage } from './emulator.js';

export interface Sandbox {
  fake: GraphEmulator;
  url: string;
  appId: string;
  appSecret: string;
  /** A short-lived user token of the demo user, to paste into `POST /admin/pages/connect`. */
  userToken: string;
  pages: DemoPage[];
  /** The demo person's key ("Ada Lovelace"). */
  person: string;
  /** The demo person's PSID on each demo page, by page id. */
  psids: Record<string, string>;
  /** The Instagram account linked to the first demo page, and the demo person's IGSID on it. */
  instagram: typeof DEMO_INSTAGRAM & { igsid: string };
}

/** The demo person's key in the emulator (its first person). */
export const DEMO_PERSON_KEY = 'person-1';

/** The Instagram professional account linked to the demo café (SPEC §11). */
export const DEMO_INSTAGRAM = {
  id: '17841400000000437',
  username: 'pagewire.demo.cafe',
  pageId: '108374925610437',
};

/** The demo person's IGSID on the demo Instagram account (what the emulator gives her). */
export function demoIgsid(): string {
  return igsidOf(DEMO_PERSON_KEY, DEMO_INSTAGRAM.id);
}

export const DEMO_PAGES: readonly DemoPage[] = [
  { id: '108374925610437', name: 'Pagewire Demo Café' },
  { id: '112093847561029', name: 'Pagewire Demo Books' },
];

/**
 * The Graph API sandbox of the local stack: two demo pages, a user managing both, and Ada Lovelace with a
 * PSID on each. Tokens are derived from the app secret (generated or given), so page tokens stored by the
 * local stack stay valid when it restarts with the same persisted secret.
 */
export async function startSandbox(
  opts: { appId?: string; appSecret?: string; port?: number; host?: string } = {},
): Promise<Sandbox> {
  const appId = opts.appId ?? randomDigits(15);
  const appSecret = opts.appSecret ?? randomBytes(16).toString('hex');
  const fake = new GraphEmulator({ appId, appSecret, appName: 'Pagewire (sandbox)', seed: appSecret });
  const pages = DEMO_PAGES.map((p) => ({ ...p }));
  const { shortLivedToken } = fake.addUser({ name: 'Sandbox Admin', pages });
  const person = fake.addPerson('Ada', 'Lovelace');
  const psids = Object.fromEntries(pages.map((p) => [p.id, fake.psid(person, p.id)]));
  fake.linkInstagram(DEMO_INSTAGRAM.pageId, { id: DEMO_INSTAGRAM.id, username: DEMO_INSTAGRAM.username });
  const instagram = { ...DEMO_INSTAGRAM, igsid: fake.igsid(person, DEMO_INSTAGRAM.id) };
  const url = await fake.start(opts.port ?? 0, opts.host);
  return { fake, url, appId, appSecret, userToken: shortLivedToken, pages, person, psids, instagram };
}

function randomDigits(n: number): string {
  return [...randomBytes(n)].map((b, i) => (i === 0 ? (b % 9) + 1 : b % 10)).join('');
}
