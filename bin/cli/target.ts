import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { UsageError, type Values } from './args.js';

export const DEFAULT_URL = 'http://127.0.0.1:3000';

/** Where the admin API is and how to authenticate to it. */
export interface Target {
  url: URL;
  /** Where the URL came from, for hints in error messages. */
  source: 'flag' | 'env' | 'sandbox' | 'default';
  /** Bearer token for the local stack; not sent when signing for AWS. */
  adminToken?: string;
  /** Set when every request is signed with SigV4 (IAM auth of the admin API on AWS). */
  aws?: { region: string };
}

type Env = Record<string, string | undefined>;

/** The part of `.data/sandbox.json` (written by `npm start` in sandbox mode) the CLI reads. */
const SandboxInfo = z.object({
  url: z.catch(z.optional(z.string()), undefined),
  adminToken: z.catch(z.optional(z.string()), undefined),
});
type SandboxInfo = z.infer<typeof SandboxInfo>;

/**
 * URL: `--url`, `PAGEWIRE_URL`, the sandbox file, `http://127.0.0.1:3000`. Admin token: `--admin-token`,
 * `PAGEWIRE_ADMIN_TOKEN`, `ADMIN_TOKEN`, then the sandbox file's (only for the sandbox's own URL or a
 * loopback one, so it never travels to another host). SigV4 with `--aws` or an `*.amazonaws.com` host.
 */
export async function resolveTarget(values: Values, env: Env = process.env): Promise<Target> {
  const sandbox = await readSandbox(env);
  const [raw, source]: [string, Target['source']] = values.url
    ? [values.url, 'flag']
    : env.PAGEWIRE_URL
      ? [env.PAGEWIRE_URL, 'env']
      : sandbox?.url
        ? [sandbox.url, 'sandbox']
        : [DEFAULT_URL, 'default'];
  const url = parseUrl(raw);
  const sandboxTokenFits =
    source === 'sandbox' || isLoopback(url) || (sandbox?.url !== undefined && sameOrigin(sandbox.url, url));
  const adminToken =
    values['admin-token'] ||
    env.PAGEWIRE_ADMIN_TOKEN ||
    env.ADMIN_TOKEN ||
    (sandboxTokenFits ? sandbox?.adminToken : undefined) ||
    undefined;
  const aws = values.aws === true || isAwsHost(url.hostname);
  if (!aws) return { url, source, adminToken };
  const region = values.region || regionOfHost(url.hostname) || env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('no AWS region: pass --region or set AWS_REGION');
  return { url, source, adminToken, aws: { region } };
}

/** `abc123.execute-api.eu-west-1.amazonaws.com` → `eu-west-1`. */
export function regionOfHost(hostname: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/i.exec(hostname)?.[1]?.toLowerCase();
}

function isAwsHost(hostname: string): boolean {
  return /\.amazonaws\.com(\.cn)?$/i.test(hostname);
}

function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
}

function sameOrigin(a: string, b: URL): boolean {
  try {
    return new URL(a).origin === b.origin;
  } catch {
    return false;
  }
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`not an http(s) URL: ${raw}`);
  }
  if (url.username || url.password) throw new UsageError('the URL must not carry credentials');
  return url;
}

async function readSandbox(env: Env): Promise<SandboxInfo | undefined> {
  try {
    const info = SandboxInfo.safeParse(
      JSON.parse(await readFile(join(env.DATA_DIR || '.data', 'sandbox.json'), 'utf8')),
    );
    return info.success ? info.data : undefined;
  } catch {
    return undefined;
  }
}
