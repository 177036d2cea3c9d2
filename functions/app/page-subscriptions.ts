import type { PageRecord } from '#contracts/page-record';
import type { GraphClient } from '#graph/graph-client';
import type { PageAccess } from '#pages/page-access';
import type { PageRepository } from '#pages/page-repository';
import { PageOperations } from '#pages/subscriptions';
import type { AppCredentialsSource } from '#ports/ports';

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
