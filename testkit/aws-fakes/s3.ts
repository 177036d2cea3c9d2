/**
 * S3 objects over the REST protocol, path-style (`/<bucket>/<key>`, what the SDK uses on an IP
 * endpoint): PutObject and GetObject. As S3 does, a missing key answers 404 NoSuchKey only to a caller
 * allowed `s3:ListBucket` on the bucket for that key (`s3:prefix`), and 403 AccessDenied to any other.
 */
import { createHash } from 'node:crypto';
import type { AwsRequest, FakeService, Gate, Handled } from './types.js';

export interface S3FakeOptions {
  buckets: string[];
  /** Whether the caller may list the bucket at this key (decides 404 or 403 for a missing key). */
  mayList: (principal: string, bucketArn: string, key: string) => boolean;
}

export class S3Fake implements FakeService {
  readonly objects = new Map<string, Buffer>();

  constructor(private readonly opts: S3FakeOptions) {}

  handle(request: AwsRequest, gate: Gate): Handled {
    const url = new URL(request.path, 'http://s3');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = rest.map(decodeURIComponent).join('/');
    const operation =
      request.method === 'PUT' ? 'PutObject' : request.method === 'GET' ? 'GetObject' : request.method;
    const authorizations = [{ action: `s3:${operation}`, resource: `arn:aws:s3:::${bucket}/${key}` }];
    const done = (answer: Handled['answer']): Handled => ({ answer, operation, authorizations });
    if (gate(authorizations, request)) return done(xmlError(403, 'AccessDenied', key));
    if (!this.opts.buckets.includes(bucket)) return done(xmlError(404, 'NoSuchBucket', bucket));
    if (!key || url.search.replace(/^\?(x-id=\w+)?$/, '') !== '') {
      return done(
        xmlError(
          400,
          'NotImplemented',
          `the fake serves objects only: ${request.method} ${url.pathname}${url.search}`,
        ),
      );
    }
    const id = `${bucket}/${key}`;
    if (operation === 'PutObject') {
      const body = decodeChunked(request);
      this.objects.set(id, body);
      return done({ status: 200, headers: { etag: etag(body) } });
    }
    if (operation === 'GetObject') {
      const body = this.objects.get(id);
      if (body) {
        return done({
          status: 200,
          headers: {
            etag: etag(body),
            'content-type': 'application/octet-stream',
            'content-length': String(body.length),
          },
          body,
        });
      }
      return done(
        this.opts.mayList(request.principal, `arn:aws:s3:::${bucket}`, key)
          ? xmlError(404, 'NoSuchKey', key)
          : xmlError(403, 'AccessDenied', key),
      );
    }
    return done(xmlError(405, 'MethodNotAllowed', request.method));
  }
}

const etag = (body: Buffer) => `"${createHash('md5').update(body).digest('hex')}"`;

function xmlError(status: number, code: string, resource: string): Handled['answer'] {
  return {
    status,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${code}</Message><Resource>${resource.replace(/[<&]/g, '')}</Resource><RequestId>FAKE</RequestId></Error>`,
  };
}

/** The body of a PutObject, unwrapped from `aws-chunked` encoding (flexible checksums) when used. */
function decodeChunked(request: AwsRequest): Buffer {
  if (!String(request.headers['content-encoding'] ?? '').includes('aws-chunked')) return request.body;
  const parts: Buffer[] = [];
  let at = 0;
  const body = request.body;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    const [hex = ''] = body.subarray(at, lineEnd).toString('latin1').split(';');
    const size = Number.parseInt(hex, 16);
    if (!size) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
