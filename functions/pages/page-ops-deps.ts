import type { BulkDeps } from './bulk.js';
import type { PageCommandRunner } from './commands.js';
import type { PageAccess } from './page-access.js';
import type { PageRepository } from './page-repository.js';

/** What the admin API, the ops function and the page-commands consumer use of the pages feature. */
export interface PageOpsDeps {
  pages: PageRepository;
  access: PageAccess;
  bulk: BulkDeps;
  /** Single-page commands: queued per page when a page-commands queue exists, else run inline. */
  runCommand: PageCommandRunner;
}
