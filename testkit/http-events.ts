import type { HttpEvent } from '#runtime/http';

/** An API Gateway HTTP API (payload v2) event, as Lambda receives it. */
export function httpEvent(
  method: string,
  path: string,
  o: {
    body?: string | Buffer;
    headers?: Record<string, string>;
    query?: Record<string, string>;
    base64?: boolean;
  } = {},
): HttpEvent {
  const bytes = o.body === undefined ? undefined : Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body);
  const base64 = o.base64 ?? Buffer.isBuffer(o.body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(o.query ?? {}).toString(),
    headers: o.headers ?? {},
    queryStringParameters: o.query,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'example.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'example',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.1', userAgent: 'facebookexternalua' },
      requestId: 'req',
      routeKey: '$default',
      stage: '$default',
      time: '27/Nov/2026:08:00:00 +0000',
      timeEpoch: 0,
    },
    body: bytes === undefined ? undefined : base64 ? bytes.toString('base64') : bytes.toString('utf8'),
    isBase64Encoded: base64,
  };
}
