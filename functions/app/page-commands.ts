import { createPageCommandsProcessor } from '#pages/command-consumer';
import { lambda } from '#runtime/lambda';
import type { AdaptersFor } from './adapters.js';
import type { Config } from './config.js';
import { pageOpsDeps } from './page-ops.js';

/** The page-commands queue consumer: subscribe, disconnect, check, one page at a time. */
export function composePageCommands(config: Config, a: AdaptersFor<'pageCommands'>) {
  // No commands queue here: this is its consumer.
  const deps = pageOpsDeps(config, { ...a, commandsQueue: undefined });
  return lambda(createPageCommandsProcessor({ pages: deps.pages, operations: deps.bulk.operations }));
}
