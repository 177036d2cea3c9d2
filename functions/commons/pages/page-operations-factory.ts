import type { GraphClient } from '../graph/graph-client.js';
import type { AppCredentialsSource } from '../ports.js';
import type { PageRepository } from '../store/page-repository.js';
import type { PageRecord } from '../store/records.js';
import type { PageAccess } from './page-access.js';
import { PageOperations } from './page-operations.js';

export interface OperationsFactoryDeps {
  pages: PageRepository;
  access: PageAccess;
  credentials: AppCredentialsSource;
  graph: () => Promise<GraphClient | undefined>;
  onHealthy?: (page: PageRecord) => Promise<void>;
}

/** PageOperations for the current app credentials (the app id decides which subscription is ours). */
export function operationsFactory(deps: OperationsFactoryDeps) {
  return async (): Promise<PageOperations> => {
    const [credentials, graph] = await Promise.all([deps.credentials.get(), deps.graph()]);
    if (!credentials || !graph) throw new Error('the Facebook app credentials are not configured');
    return new PageOperations({ ...deps, graph, appId: credentials.appId });
  };
}
