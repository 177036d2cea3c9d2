import type { ConnectLoginDeps } from '#connect-login/connect-login';
import { ConnectLinkStore } from '#connect-login/link-store';
import { createConnectLoginRoutes } from '#connect-login/public-routes';
import { lambda } from '#runtime/lambda';
import type { AdaptersFor } from './adapters.js';
import type { Config } from './config.js';
import { graphFactory } from './graph.js';
import { pageOpsDeps } from './page-ops.js';

/** The public Facebook Login routes (SPEC §12), wrapped for Lambda (and the local stack's gateway). */
export function composeConnectLogin(config: Config, a: AdaptersFor<'connectLogin'>) {
  return lambda(createConnectLoginRoutes(connectLoginDeps(config, a)));
}

/**
 * The Facebook Login flow's collaborators, shared by the public routes and the admin API's
 * `/admin/connect-links`: the link store, the sealer (the user token, bound to its link) and the page
 * operations `POST /admin/pages/connect` uses. `now` is a test's clock where one is given.
 */
export function connectLoginDeps(
  config: Config,
  a: AdaptersFor<'connectLogin'>,
  now: () => number = Date.now,
): ConnectLoginDeps {
  const ops = pageOpsDeps(config, {
    table: a.table,
    sealer: a.sealer,
    credentials: a.credentials,
    commandsQueue: a.commandsQueue,
    publisher: a.publisher,
  });
  return {
    links: new ConnectLinkStore(a.table, config.tableName),
    sealer: a.sealer,
    credentials: a.credentials,
    graph: graphFactory(config, a.credentials),
    connect: { pages: ops.pages, sealer: a.sealer, runCommand: ops.runCommand },
    // Read per request: the local stack knows its address only once it listens.
    publicBaseUrl: () => config.publicBaseUrl,
    dialogUrl: config.dialogUrl,
    graphApiVersion: config.graphApiVersion,
    now,
  };
}
