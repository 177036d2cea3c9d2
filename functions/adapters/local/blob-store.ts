import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type BlobStore, checkBlobKey } from '#ports/ports';

/** Blobs as files under a directory (`DATA_DIR/blobs`): written to a temporary name, then renamed. */
export class FileBlobStore implements BlobStore {
  constructor(private readonly dir: string) {}

  async put(key: string, body: Buffer): Promise<void> {
    const path = join(this.dir, checkBlobKey(key));
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomUUID()}.tmp`;
    await writeFile(temporary, body);
    await rename(temporary, path);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(join(this.dir, checkBlobKey(key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

/** Blobs in memory (`MEMORY=1` and tests). */
export class MemoryBlobStore implements BlobStore {
  readonly blobs = new Map<string, Buffer>();

  async put(key: string, body: Buffer): Promise<void> {
    this.blobs.set(checkBlobKey(key), Buffer.from(body));
  }

  async get(key: string): Promise<Buffer | undefined> {
    const body = this.blobs.get(checkBlobKey(key));
    return body ? Buffer.from(body) : undefined;
  }
}
