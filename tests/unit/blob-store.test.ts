import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileBlobStore, MemoryBlobStore } from '#adapters/local/blob-store';
import { checkBlobKey } from '#ports/ports';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('blob keys', () => {
  it('accepts segments of safe characters', () => {
    expect(checkBlobKey('claims/2026-12-01/abc_DEF-1.json')).toBe('claims/2026-12-01/abc_DEF-1.json');
  });
  it.each(['', '/a', 'a/', 'a//b', '../a', 'a/../b', 'a/./b', '.', 'a b', 'a\\b', 'x'.repeat(513)])(
    'refuses %j',
    (key) => {
      expect(() => checkBlobKey(key)).toThrow(/not a blob key/);
    },
  );
});

describe.each([
  [
    'files',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'pagewire-blobs-'));
      dirs.push(dir);
      return { store: new FileBlobStore(dir), dir };
    },
  ],
  ['memory', async () => ({ store: new MemoryBlobStore(), dir: undefined })],
] as const)('%s blob store', (_name, make) => {
  it('answers what was put, and undefined for an unknown key', async () => {
    const { store } = await make();
    await store.put('claims/a/b.json', Buffer.from('{"x":1}'));
    expect((await store.get('claims/a/b.json'))?.toString()).toBe('{"x":1}');
    expect(await store.get('claims/a/c.json')).toBeUndefined();
  });
  it('overwrites the same key (a redelivered put is harmless)', async () => {
    const { store } = await make();
    await store.put('k', Buffer.from('one'));
    await store.put('k', Buffer.from('one'));
    expect((await store.get('k'))?.toString()).toBe('one');
  });
  it('never builds a path outside its directory', async () => {
    const { store, dir } = await make();
    await expect(store.put('../escape', Buffer.from('x'))).rejects.toThrow(/not a blob key/);
    await expect(store.get('a/../../etc/passwd')).rejects.toThrow(/not a blob key/);
    if (dir) expect(await readdir(dir)).toEqual([]);
  });
});
