/**
 * The local media store (DATA_DIR/media): a copy is a whole file or nothing (a body that fails midway
 * leaves no file and no temporary), it is read back with its content type, its link is the admin route,
 * and one message's copies are erased together (for unsend), leaving other messages' copies alone.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileMediaStore, MemoryMediaStore } from '#adapters/local/media-store';
import { mediaKey, messageMediaPrefix } from '#media/media-key';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pagewire-media-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function text(body: Readable | undefined): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

describe.each([
  ['FileMediaStore', () => new FileMediaStore(dir, () => 'http://127.0.0.1:3000/')],
  ['MemoryMediaStore', () => new MemoryMediaStore(() => 'http://127.0.0.1:3000')],
])('%s', (_name, make) => {
  it('stores a copy, reads it back with its content type, and links to the admin route', async () => {
    const store = make();
    const key = mediaKey('1', '2', 'm_1', 0);
    await store.put(key, Readable.from([Buffer.from('hello '), Buffer.from('world')]), {
      contentType: 'text/plain',
    });
    const copy = await store.get(key);
    expect(copy?.contentType).toBe('text/plain');
    expect(copy?.size).toBe(11);
    expect(await text(copy?.body)).toBe('hello world');
    expect(await store.linkFor(key)).toBe(`http://127.0.0.1:3000/admin/media/${key}`);
    expect(await store.get(mediaKey('1', '2', 'm_1', 1))).toBeUndefined();
  });

  it("erases one message's copies and nothing else", async () => {
    const store = make();
    for (const [mid, index] of [
      ['m_gone', 0],
      ['m_gone', 1],
      ['m_kept', 0],
    ] as const) {
      await store.put(mediaKey('1', '2', mid, index), Readable.from([Buffer.from(mid)]), {
        contentType: 'a/b',
      });
    }
    expect(await store.eraseMessage('1', '2', 'm_gone')).toBe(2);
    expect(await store.get(mediaKey('1', '2', 'm_gone', 0))).toBeUndefined();
    expect(await store.get(mediaKey('1', '2', 'm_gone', 1))).toBeUndefined();
    expect(await text((await store.get(mediaKey('1', '2', 'm_kept', 0)))?.body)).toBe('m_kept');
    expect(await store.eraseMessage('1', '2', 'm_gone')).toBe(0);
  });
});

describe('FileMediaStore', () => {
  it('leaves nothing under the key when the body fails midway (no file, no temporary)', async () => {
    const store = new FileMediaStore(dir, () => 'http://x');
    const key = mediaKey('1', '2', 'm_cut', 0);
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024));
        this.destroy(new Error('CDN cut off'));
      },
    });
    await expect(store.put(key, failing, { contentType: 'image/png' })).rejects.toThrow('CDN cut off');
    expect(await store.get(key)).toBeUndefined();
    const folder = join(dir, messageMediaPrefix('1', '2', 'm_cut'));
    expect(await readdir(folder)).toEqual([]);
  });
});
