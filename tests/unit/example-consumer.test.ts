/** The README's example consumer does what it says: key checked, each event once, in seq order. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs example, typed by use
import { createConsumer } from '../../examples/consumer.mjs';

let server: Server;
let url: string;
const applied: Array<{ id: string; seq?: number }> = [];

beforeEach(async () => {
  applied.length = 0;
  server = createServer(
    createConsumer({ key: 'k', apply: (e: { id: string; seq?: number }) => applied.push(e) }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

const post = (event: object, key = 'k') =>
  fetch(url, { method: 'POST', headers: { 'x-pagewire-key': key }, body: JSON.stringify(event) }).then(
    (r) => r.status,
  );
const event = (seq: number) => ({ id: `e${seq}`, type: 'message.received', pageId: 'p', userId: 'u', seq });

it('refuses a wrong key, applies each event once and in seq order, refuses events after a gap', async () => {
  expect(await post(event(1), 'wrong')).toBe(401);
  expect(await post(event(1))).toBe(200);
  expect(await post(event(1))).toBe(200); // a redelivery
  expect(await post(event(3))).toBe(503); // 2 is missing: retried later
  expect(await post(event(2))).toBe(200);
  expect(await post(event(3))).toBe(200);
  expect(await post({ id: 'page-1', type: 'page.status_changed', pageId: 'p' })).toBe(200);
  expect(applied.map((e) => e.id)).toEqual(['e1', 'e2', 'e3', 'page-1']);
});
