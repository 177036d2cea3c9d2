import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { messageMediaPrefix } from '#media/media-key';
import type { MediaObject, ReadableMediaStore } from '#ports/media';
import { checkBlobKey } from '#ports/ports';

/** `GET /admin/media/{key}` on the local stack's gateway (local/media-route.ts). */
export const LOCAL_MEDIA_PATH = '/admin/media/';

/**
 * Copies as files under a directory (`DATA_DIR/media`): streamed to a temporary name, then renamed, so
 * a key holds a whole copy or nothing (two writers of one key leave one file). The content type is kept
 * beside it (`{key}.type`).
 */
export class FileMediaStore implements ReadableMediaStore {
  constructor(
    private readonly dir: string,
    /** The stack's base URL (PUBLIC_URL or the bound address), read when a link is made. */
    private readonly baseUrl: () => string,
  ) {}

  async put(key: string, body: Readable, meta: { contentType: string }): Promise<void> {
    const path = join(this.dir, checkBlobKey(key));
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomUUID()}.tmp`;
    try {
      await pipeline(body, createWriteStream(temporary));
      await writeFile(`${path}.type`, meta.contentType);
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<MediaObject | undefined> {
    const path = join(this.dir, checkBlobKey(key));
    try {
      const [info, contentType] = await Promise.all([stat(path), readFile(`${path}.type`, 'utf8')]);
      return { body: createReadStream(path), contentType, size: info.size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async linkFor(key: string): Promise<string> {
    return localMediaLink(this.baseUrl(), key);
  }

  async eraseMessage(pageId: string, userId: string, mid: string): Promise<number> {
    const folder = join(this.dir, messageMediaPrefix(pageId, userId, mid));
    const names = await readdir(folder).catch(() => [] as string[]);
    await rm(folder, { recursive: true, force: true });
    return names.filter((n) => /^\d+$/.test(n)).length;
  }
}

/** Copies in memory (`MEMORY=1`, tests). */
export class MemoryMediaStore implements ReadableMediaStore {
  readonly objects = new Map<string, { body: Buffer; contentType: string }>();

  constructor(private readonly baseUrl: () => string = () => 'http://127.0.0.1') {}

  async put(key: string, body: Readable, meta: { contentType: string }): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
    this.objects.set(checkBlobKey(key), { body: Buffer.concat(chunks), contentType: meta.contentType });
  }

  async get(key: string): Promise<MediaObject | undefined> {
    const found = this.objects.get(checkBlobKey(key));
    if (!found) return undefined;
    return { body: Readable.from([found.body]), contentType: found.contentType, size: found.body.length };
  }

  async linkFor(key: string): Promise<string> {
    return localMediaLink(this.baseUrl(), key);
  }

  async eraseMessage(pageId: string, userId: string, mid: string): Promise<number> {
    const prefix = messageMediaPrefix(pageId, userId, mid);
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix));
    for (const key of keys) this.objects.delete(key);
    return keys.length;
  }
}

function localMediaLink(base: string, key: string): string {
  return `${base.replace(/\/+$/, '')}${LOCAL_MEDIA_PATH}${key.split('/').map(encodeURIComponent).join('/')}`;
}
