import { type AppCredentials, type AppCredentialsSource, completeCredentials } from '#ports/ports';

/** Local stack: the credentials come from FB_APP_ID / FB_APP_SECRET / FB_VERIFY_TOKEN. */
export class EnvCredentials implements AppCredentialsSource {
  constructor(private readonly env: Record<string, string | undefined> = process.env) {}

  async get(): Promise<AppCredentials | undefined> {
    return completeCredentials({
      appId: this.env.FB_APP_ID,
      appSecret: this.env.FB_APP_SECRET,
      verifyToken: this.env.FB_VERIFY_TOKEN,
    });
  }
}
