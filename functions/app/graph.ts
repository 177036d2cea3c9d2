import { GraphClient } from '#graph/graph-client';
import type { AppCredentialsSource } from '#ports/ports';
import type { Config } from './config.js';

/**
 * A Graph client built from the current app credentials (they may rotate in Secrets Manager), or
 * undefined when none are configured. Cheap: one object per credentials change.
 */
export function graphFactory(config: Config, credentials: AppCredentialsSource) {
  let cached: { secret: string; client: GraphClient } | undefined;
  return async (): Promise<GraphClient | undefined> => {
    const c = await credentials.get();
    if (!c) return undefined;
    if (cached?.secret !== c.appSecret) {
      const client = new GraphClient({
        baseUrl: config.graphApiUrl,
        version: config.graphApiVersion,
        appId: c.appId,
        appSecret: c.appSecret,
        timeoutMs: config.graphTimeoutMs,
      });
      cached = { secret: c.appSecret, client };
    }
    return cached.client;
  };
}
