import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export function text(statusCode: number, body: string): HttpResult {
  return { statusCode, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}

export function json(statusCode: number, value: unknown): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

/** SPEC §4: errors are `{"error":{"code","message"}}`. */
export function httpError(statusCode: number, code: string, message: string): HttpResult {
  return json(statusCode, { error: { code, message } });
}

/** The body's exact bytes: API Gateway base64-encodes bodies it considers binary. */
export function rawBody(event: HttpEvent): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

/** Header lookup; API Gateway v2 lowercases names, other callers may not. */
export function header(event: HttpEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  return headers[name] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
}
