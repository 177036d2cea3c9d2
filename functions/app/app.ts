import type { Adapters } from './adapters.js';
import { composeAdmin } from './admin.js';
import type { Config } from './config.js';
import { composeConnectLogin } from './connect-login.js';
import { composeMedia } from './media.js';
import { composeOps } from './ops.js';
import { composePageCommands } from './page-commands.js';
import { composeProcessor } from './processor.js';
import { composeVerifier } from './verifier.js';

/**
 * Every function of Pagewire in one process (the local stack), built by the same composers the Lambda
 * handlers call, so both runtimes run the same wrappers over the same code; only the adapters differ.
 * On AWS each handler imports its own composer only: a shared function would bundle everything everywhere.
 */
export function createApp(config: Config, adapters: Adapters, media: { mediaHosts?: string } = {}) {
  return {
    verifier: composeVerifier(config, adapters),
    processor: composeProcessor(config, adapters),
    admin: composeAdmin(config, adapters),
    ops: composeOps(config, adapters),
    pageCommands: composePageCommands(config, adapters),
    media: composeMedia(config, adapters, media),
    connectLogin: composeConnectLogin(config, adapters),
  };
}

export type PagewireApp = ReturnType<typeof createApp>;
