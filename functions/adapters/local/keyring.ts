import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TokenSealer } from '#ports/ports';
import { TokenSealError, TokenUnsealError } from '#ports/token-errors';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'k1';

/**
 * The local stand-in for KMS: AES-256-GCM with the same encryption-context rule. The context
 * `{pageId}` is the additional authenticated data, so a token sealed for one page does not open
 * for another. Sealed form: `k1.<iv>.<ciphertext>.<tag>`, each part base64url.
 */
export class LocalKeyring implements TokenSealer {
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) {
      throw new Error(`A keyring key must be ${KEY_BYTES} bytes, got ${key.length}`);
    }
    this.key = Buffer.from(key);
  }

  /** A key that lives as long as the process (MEMORY=1). */
  static ephemeral(): LocalKeyring {
    return new LocalKeyring(randomBytes(KEY_BYTES));
  }

  /** Reuses the key file at `path`, or creates one (mode 0600) with a random key. */
  static async fromFile(path: string): Promise<LocalKeyring> {
    return new LocalKeyring(await readOrCreateKey(path));
  }

  async seal(pageId: string, token: string): Promise<string> {
    try {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.key, iv);
      cipher.setAAD(contextAad(pageId));
      const ciphertext = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
      return [FORMAT, iv, ciphertext, cipher.getAuthTag()].map(encodePart).join('.');
    } catch (err) {
      throw new TokenSealError(pageId, err instanceof Error ? err.name : 'UnknownError');
    }
  }

  async unseal(pageId: string, sealed: string): Promise<string> {
    const parts = parseSealed(sealed);
    if (!parts) throw new TokenUnsealError(pageId, 'not a k1 sealed token');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, parts.iv);
      decipher.setAAD(contextAad(pageId));
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      // GCM does not say why: another page, another key and tampering all look the same.
      throw new TokenUnsealError(pageId, 'authentication failed (wrong page, wrong key or tampered)');
    }
  }
}

/** The encryption context `{pageId}` as canonical JSON: the same bytes on every seal and unseal. */
function contextAad(pageId: string): Buffer {
  return Buffer.from(canonicalJson({ pageId }), 'utf8');
}

function canonicalJson(context: Record<string, string>): string {
  const sorted = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(sorted));
}

function encodePart(part: string | Buffer): string {
  return typeof part === 'string' ? part : part.toString('base64url');
}

function parseSealed(sealed: string): { iv: Buffer; ciphertext: Buffer; tag: Buffer } | undefined {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== FORMAT) return undefined;
  const [iv, ciphertext, tag] = parts.slice(1).map(decodeStrict);
  if (!iv || !ciphertext || !tag || iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return undefined;
  return { iv, ciphertext, tag };
}

/**
 * Node's base64url decoder ignores stray characters and unused trailing bits, so two different
 * strings can decode alike. Requiring the canonical encoding makes every edit of the string count.
 */
function decodeStrict(part: string): Buffer | undefined {
  const bytes = Buffer.from(part, 'base64url');
  return bytes.toString('base64url') === part ? bytes : undefined;
}

async function readOrCreateKey(path: string): Promise<Buffer> {
  const existing = await readKeyFile(path);
  if (existing) return checkKeySize(path, existing);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  try {
    // 'wx': never overwrite a key another process created meanwhile; its tokens would not open.
    await writeFile(path, key, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return checkKeySize(path, await readFile(path));
  }
}

async function readKeyFile(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function checkKeySize(path: string, key: Buffer): Buffer {
  if (key.length !== KEY_BYTES) {
    throw new Error(`Keyring file ${path} holds ${key.length} bytes, expected ${KEY_BYTES}`);
  }
  return key;
}
