import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { type AppCredentials, type AppCredentialsSource, completeCredentials } from '#ports/ports';

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
    return completeCredentials(typeof value === 'object' && value ? (value as Record<string, unknown>) : {});
  }
}

/** The deployed credentials: the Secrets Manager secret `secretName` (APP_SECRET_NAME). */
export const secretsCredentials = (secretName: string): SecretsManagerCredentials =>
  new SecretsManagerCredentials(secretName);
