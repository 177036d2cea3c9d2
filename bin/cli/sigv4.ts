import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

type SignerOptions = ConstructorParameters<typeof SignatureV4>[0];
export type CredentialSource = SignerOptions['credentials'];

export interface RequestToSign {
  method: string;
  url: URL;
  /** Headers to sign besides `host` (content-type when there is a body). */
  headers: Record<string, string>;
  body?: string;
}

/** Adds the headers that sign a request for API Gateway (`execute-api`) with IAM auth. */
export type Signer = (request: RequestToSign) => Promise<Record<string, string>>;

/**
 * SigV4 over host, method, path, query and body by the SDK's own signer. Credentials come from the
 * standard chain (environment, profiles, SSO, container and instance roles) unless given.
 */
export async function sigV4Signer(region: string, credentials?: CredentialSource): Promise<Signer> {
  // Loaded on demand: the credential chain is the heaviest import of the CLI, and local use needs none.
  const resolved = credentials ?? (await import('@aws-sdk/credential-providers')).fromNodeProviderChain();
  // The payload hash is part of the signature either way; execute-api needs no x-amz-content-sha256 header.
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: resolved,
    sha256: Sha256,
    applyChecksum: false,
  });
  return async ({ method, url, headers, body }) => {
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
    }
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      // `url.host` is what fetch sends as Host: the hostname, and the port unless it is the default.
      headers: { ...headers, host: url.host },
      body,
    });
    return signed.headers as Record<string, string>;
  };
}
