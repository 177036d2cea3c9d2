import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { AppCredentials, AppCredentialsSource } from './ports.js';

/** Local stack: the credentials come from FB_APP_ID / FB_APP_SECRET / FB_VERIFY_TOKEN. */
export class EnvCredentials implements AppCredentialsSource {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async get(): Promise<AppCredentials | undefined> {
    return complete({
      appId: this.env.FB_APP_ID,
      appSecret: this.env.FB_APP_SECRET,
      verifyToken: this.env.FB_VERIFY_TOKEN,
    });
  }
}

/**
 * AWS: the Secrets Manager secret `{"appId","appSecret","verifyToken"}`, read through Powertools
 * Parameters and cached for `maxAgeSeconds` so a warm container does not call Secrets Manager per request.
 */
export class SecretsManagerCredentials implements AppCredentialsSource {
  constructor(
    private readonly secretName: string,
    private readonly maxAgeSeconds = 300,
  ) {}

  async get(): Promise<AppCredentials | undefined> {
    const value = await getSecret<Partial<AppCredentials>>(this.secretName, {
      transform: 'json',
      maxAge: this.maxAgeSeconds,
    });
    return complete(value ?? {});
  }
}

/** Only a secret with a non-empty app secret counts: otherwise webhooks fail closed. */
function complete(c: Partial<Record<keyof AppCredentials, unknown>>): AppCredentials | undefined {
  if (typeof c.appSecret !== 'string' || c.appSecret === '') return undefined;
  return {
    appId: typeof c.appId === 'string' ? c.appId : '',
    appSecret: c.appSecret,
    verifyToken: typeof c.verifyToken === 'string' ? c.verifyToken : '',
  };
}
