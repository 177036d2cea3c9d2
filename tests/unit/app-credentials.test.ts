import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretsManagerCredentials } from '#adapters/aws/secrets-credentials';
import { EnvCredentials } from '#adapters/local/env-credentials';

const sm = mockClient(SecretsManagerClient);
let n = 0;
// Powertools caches secrets per name: a fresh name per test keeps tests independent.
const secretName = () => `pagewire/app-${++n}`;

afterEach(() => sm.reset());

describe('SecretsManagerCredentials', () => {
  it('reads {appId, appSecret, verifyToken} from the secret, once per cache period', async () => {
    const name = secretName();
    sm.on(GetSecretValueCommand, { SecretId: name }).resolves({
      SecretString: JSON.stringify({ appId: '123', appSecret: 's3cret', verifyToken: 'vt' }),
    });
    const creds = new SecretsManagerCredentials(name);
    expect(await creds.get()).toEqual({ appId: '123', appSecret: 's3cret', verifyToken: 'vt' });
    await creds.get();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('parses the secret once per value: the same answer while it stands, the new one once it changes', async () => {
    const name = secretName();
    const value = (appSecret: string) => JSON.stringify({ appId: '123', appSecret, verifyToken: 'vt' });
    sm.on(GetSecretValueCommand, { SecretId: name }).resolves({ SecretString: value('one') });
    const creds = new SecretsManagerCredentials(name, 0.001); // Powertools reads again after 1 ms
    const first = await creds.get();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await creds.get()).toBe(first); // read again, same value: the parsed object is reused
    sm.on(GetSecretValueCommand, { SecretId: name }).resolves({ SecretString: value('two') });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await creds.get()).toEqual({ appId: '123', appSecret: 'two', verifyToken: 'vt' });
  });

  it('answers undefined (webhooks fail closed) while the secret is the placeholder without app id or secret', async () => {
    const name = secretName();
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{"appId":"","appSecret":"","verifyToken":"x"}' });
    expect(await new SecretsManagerCredentials(name).get()).toBeUndefined();
    const other = secretName();
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{"appSecret":"only-the-secret"}' });
    expect(await new SecretsManagerCredentials(other).get()).toBeUndefined();
  });

  it('refuses a value that is not JSON without quoting it', async () => {
    const name = secretName();
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'myAppSecretValue123' });
    const err = await new SecretsManagerCredentials(name).get().catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(`secret ${name} is not JSON {"appId","appSecret","verifyToken"}`);
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).not.toContain('myAppSecretValue123');
  });
});

describe('EnvCredentials', () => {
  it('needs both FB_APP_ID and FB_APP_SECRET', async () => {
    expect(await new EnvCredentials({ FB_APP_SECRET: 's' }).get()).toBeUndefined();
    expect(
      await new EnvCredentials({ FB_APP_ID: '1', FB_APP_SECRET: 's', FB_VERIFY_TOKEN: 'v' }).get(),
    ).toEqual({
      appId: '1',
      appSecret: 's',
      verifyToken: 'v',
    });
  });
});
