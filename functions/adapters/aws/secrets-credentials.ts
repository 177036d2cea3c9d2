import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { AppCredentials, AppCredentialsSource } from '#ports/ports';

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
    const raw = await getSecret<string>(this.secretName, { maxAge: this.maxAgeSeconds });
    let value: unknown;
    try {
      value = JSON.parse(raw ?? '{}');
    } catch {
      // JSON.parse's message quotes the text it choked on: the app secret itself. Say only what is wrong.
      throw new Error(`secret ${this.secretName} is not JSON {"appId","appSecret","verifyToken"}`);
    }
    return complete(typeof value === 'object' && value ? (value as Record<string, unknown>) : {});
  }
}

/**
 * Only a complete set counts: without an app secret webhooks fail closed, and without the app id
 * Pagewire could not tell its own subscription from another app's.
 */
function complete(c: Partial<Record<keyof AppCredentials, unknown>>): AppCredentials | undefined {
  if (typeof c.appSecret !== 'string' || c.appSecret === '') return undefined;
  if (typeof c.appId !== 'string' || c.appId === '') return undefined;
  return {
    appId: c.appId,
    appSecret: c.appSecret,
    verifyToken: typeof c.verifyToken === 'string' ? c.verifyToken : '',
  };
}

/** The deployed credentials: the Secrets Manager secret `secretName` (APP_SECRET_NAME). */
export const secretsCredentials = (secretName: string): SecretsManagerCredentials =>
  new SecretsManagerCredentials(secretName);
