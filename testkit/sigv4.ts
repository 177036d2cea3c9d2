/**
 * Checks a SigV4 signature the way API Gateway would: the received request is signed again with the
 * same credentials, signed headers and date. Equal only when method, path, query, signed headers and
 * body arrived exactly as they were signed.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface ReceivedRequest {
  method: string;
  /** The request target as received (path and query). */
  url: string;
  headers: IncomingHttpHeaders;
  body?: string;
}

export interface SigningKey {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region: string;
  service?: string;
}

/** The `authorization` header the request should carry, computed again from what arrived. */
export async function resignedAuthorization(r: ReceivedRequest, key: SigningKey): Promise<string> {
  const auth = String(r.headers.authorization);
  const names = (/SignedHeaders=([^,]+)/.exec(auth)?.[1] ?? '').split(';');
  const url = new URL(r.url, `http://${r.headers.host}`);
  const date = String(r.headers['x-amz-date']).replace(
    /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/,
    '$1-$2-$3T$4:$5:$6Z',
  );
  const signer = new SignatureV4({
    service: key.service ?? 'execute-api',
    region: key.region,
    credentials: key.credentials,
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: r.method,
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(names.map((n) => [n, String(r.headers[n])])),
      body: r.body || undefined,
    },
    { signingDate: new Date(date) },
  );
  return String(signed.headers.authorization);
}
