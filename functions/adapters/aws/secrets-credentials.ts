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

  /** The last value read and what it parsed to: every webhook POST asks, the secret rarely changes. */
  private parsed?: { raw: string | undefined; credentials: AppCredentials | undefined };

  async get(): Promise<AppCredentials | undefined> {
    const raw = await getSecret<string>(this.secretName, { maxAge: this.maxAgeSeconds });
    if (!this.parsed || this.parsed.raw !== raw) {
      this.parsed = { raw, credentials: this.parse(raw) };
    }
    return this.parsed.credentials;
  }

  private parse(raw: string | undefined): AppCredentials | undefined {
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
