/**
 * `pagewire doctor [--repair] [--json]`: the verdict, a row per app check and per failed page check
 * (✓/✗, where, what, the fix), healthy pages counted; exit 1 when anything is not ok.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DoctorReport } from '#contracts/doctor';
import { header, httpError, json } from '#runtime/http';
import { main } from '../../bin/cli/main.js';
import { Output } from '../../bin/cli/output.js';
import { serveHttp } from '../../local/http-server.js';

const TOKEN = 'doctor-cli-admin-token-0123456789';
const HEALTHY: DoctorReport = {
  ok: true,
  app: [
    { name: 'app_webhook', ok: true, detail: 'page webhook active' },
    { name: 'app_callback_url', ok: true, detail: 'callback https://example.com/webhooks/facebook' },
    { name: 'app_fields', ok: true, detail: 'every default field' },
  ],
  pages: [
    { pageId: '1001', name: 'Café A', checks: [{ name: 'subscription', ok: true, detail: 'subscribed' }] },
    { pageId: '1002', name: 'Books B', checks: [{ name: 'subscription', ok: true, detail: 'subscribed' }] },
  ],
};
const SICK: DoctorReport = {
  ok: false,
  app: [
    {
      name: 'app_webhook',
      ok: false,
      detail: 'Meta disabled the page webhook',
      fix: 'npx pagewire doctor --repair',
    },
  ],
  pages: [
    HEALTHY.pages[0] as DoctorReport['pages'][number],
    {
      pageId: '1002',
      name: 'Books B',
      checks: [
        { name: 'subscription', ok: true, detail: 'subscribed' },
        {
          name: 'data_access',
          ok: false,
          detail: 'data access ends on 2026-12-05 (in 3 days)',
          fix: 'connect the page again',
        },
      ],
    },
  ],
};

let url: string;
let close: () => Promise<void>;
let answer: DoctorReport;
let requests: string[];

beforeAll(async () => {
  const served = await serveHttp(
    async (e) => {
      if (header(e, 'authorization') !== `Bearer ${TOKEN}`) return httpError(401, 'unauthorized', 'no');
      requests.push(`${e.requestContext.http.method} ${e.rawPath}`);
      return json(200, answer);
    },
    0,
    '127.0.0.1',
  );
  url = served.url;
  close = async () => {
    served.server.closeAllConnections();
    await new Promise<void>((resolve) => served.server.close(() => resolve()));
  };
});
afterAll(async () => close?.());
beforeEach(() => {
  requests = [];
});

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const output = new Output({ write: (s: string) => out.push(s) }, { write: (s: string) => err.push(s) });
  const code = await main(['doctor', ...argv, '--url', url, '--admin-token', TOKEN], { output, env: {} });
  return { code, out: out.join(''), err: err.join('') };
}

describe('pagewire doctor', () => {
  it('healthy: a ✓ verdict, the app checks, the pages counted, exit 0', async () => {
    answer = HEALTHY;
    const r = await run();
    expect(r.code).toBe(0);
    expect(requests).toEqual(['GET /admin/doctor']);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe('✓ healthy: the app webhook and 2 pages');
    expect(lines.filter((l) => l.startsWith('✓  app'))).toHaveLength(3);
    expect(r.out).toMatch(/✓ +2 pages +every check +ok/);
    expect(r.out).not.toContain('✗');
  });

  it('problems: a ✗ row each with what is wrong and the fix, exit 1', async () => {
    answer = SICK;
    const r = await run();
    expect(r.code).toBe(1);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe('✗ 2 problems: 1 of 2 pages need attention');
    expect(r.out).toMatch(
      /✗ +app +app_webhook +Meta disabled the page webhook +npx pagewire doctor --repair/,
    );
    expect(r.out).toMatch(
      /✗ +Books B \(1002\) +data_access +data access ends on 2026-12-05 \(in 3 days\) +connect/,
    );
    expect(r.out).toMatch(/✓ +1 page +every check +ok/);
  });

  it('--repair posts to the repair route; --json prints the answer as is', async () => {
    answer = HEALTHY;
    expect((await run('--repair')).code).toBe(0);
    expect(requests).toEqual(['POST /admin/doctor/repair']);
    answer = SICK;
    const r = await run('--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual(SICK);
  });

  it('takes no arguments and no foreign option (usage error, exit 2)', async () => {
    const extra = await run('now');
    expect(extra.code).toBe(2);
    expect(extra.err).toContain('doctor takes no arguments');
    expect(requests).toEqual([]);
  });
});
