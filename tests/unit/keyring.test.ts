import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalKeyring } from '#adapters/local/keyring';
import { TokenUnsealError } from '#ports/token-errors';
import { first } from '#testkit/pick';

const TOKEN = 'EAAGm0PX4ZCpsBAPageTokenSecret';
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keyring-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Replaces one character of the string with another valid base64url character. */
function flip(sealed: string, index: number): string {
  const replacement = sealed[index] === 'A' ? 'B' : 'A';
  return sealed.slice(0, index) + replacement + sealed.slice(index + 1);
}

async function unsealError(keyring: LocalKeyring, pageId: string, sealed: string): Promise<unknown> {
  return keyring.unseal(pageId, sealed).catch((err: unknown) => err);
}

describe('LocalKeyring', () => {
  it('round-trips a token, including non-ASCII and empty ones', async () => {
    const keyring = LocalKeyring.ephemeral();
    for (const token of [TOKEN, 'tøkén✓', '']) {
      await expect(keyring.unseal('1234', await keyring.seal('1234', token))).resolves.toBe(token);
    }
  });

  it('has the k1 format and never contains the plaintext', async () => {
    const sealed = await LocalKeyring.ephemeral().seal('1234', TOKEN);
    expect(sealed).toMatch(/^k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(sealed).not.toContain(TOKEN);
    expect(sealed).not.toContain(Buffer.from(TOKEN).toString('base64url'));
  });

  it('gives a different sealed string on every seal', async () => {
    const keyring = LocalKeyring.ephemeral();
    const sealed = await Promise.all(Array.from({ length: 20 }, () => keyring.seal('1234', TOKEN)));
    expect(new Set(sealed).size).toBe(20);
  });

  it('does not open a token for another page, naming the page but not the token', async () => {
    const keyring = LocalKeyring.ephemeral();
    const sealed = await keyring.seal('1234', TOKEN);
    const error = await unsealError(keyring, '5678', sealed);
    expect(error).toBeInstanceOf(TokenUnsealError);
    expect(error).toMatchObject({ pageId: '5678' });
    expect((error as Error).message).toContain('5678');
    const text = `${(error as Error).message} ${JSON.stringify(error)}`;
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(sealed);
  });

  it('detects tampering anywhere in the string', async () => {
    const keyring = LocalKeyring.ephemeral();
    const sealed = await keyring.seal('1234', TOKEN);
    for (let i = 0; i < sealed.length; i++) {
      if (sealed[i] === '.') continue;
      expect(await unsealError(keyring, '1234', flip(sealed, i))).toBeInstanceOf(TokenUnsealError);
    }
    for (const bad of ['', 'k1', `k2${sealed.slice(2)}`, `${sealed}.x`, sealed.replaceAll('.', ':')]) {
      expect(await unsealError(keyring, '1234', bad)).toBeInstanceOf(TokenUnsealError);
    }
  });

  it('does not open a token sealed with another key', async () => {
    const sealed = await LocalKeyring.ephemeral().seal('1234', TOKEN);
    expect(await unsealError(LocalKeyring.ephemeral(), '1234', sealed)).toBeInstanceOf(TokenUnsealError);
  });

  it('rejects a key of the wrong size', () => {
    expect(() => new LocalKeyring(Buffer.alloc(16))).toThrow(/32 bytes/);
  });

  it('creates a 0600 key file (and its directory) and reuses it', async () => {
    const path = join(dir, 'nested', 'keys', 'keyring.key');
    const first = await LocalKeyring.fromFile(path);
    const key = await readFile(path);
    expect(key).toHaveLength(32);
    if (process.platform !== 'win32') expect((await stat(path)).mode & 0o777).toBe(0o600);

    const sealed = await first.seal('1234', TOKEN);
    const second = await LocalKeyring.fromFile(path);
    await expect(second.unseal('1234', sealed)).resolves.toBe(TOKEN);
    expect((await readFile(path)).equals(key)).toBe(true);
  });

  it('gives every concurrent opener the same key', async () => {
    const path = join(dir, 'keyring.key');
    const keyrings = await Promise.all(Array.from({ length: 5 }, () => LocalKeyring.fromFile(path)));
    const sealed = await first(keyrings, 'keyrings').seal('1', TOKEN);
    for (const keyring of keyrings) await expect(keyring.unseal('1', sealed)).resolves.toBe(TOKEN);
  });

  it('rejects a key file of the wrong size', async () => {
    const path = join(dir, 'keyring.key');
    await writeFile(path, Buffer.alloc(31));
    await expect(LocalKeyring.fromFile(path)).rejects.toThrow(/31 bytes, expected 32/);
  });
});
