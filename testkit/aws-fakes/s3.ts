/**
 * S3 objects over the REST protocol, path-style (`/<bucket>/<key>`, what the SDK uses on an IP
 * endpoint): PutObject, GetObject (signed, or presigned: X-Amz-Signature and X-Amz-Expires in the query)
 * and HeadObject, each keeping the object's content type. As S3 does, a missing key answers 404 NoSuchKey only to a caller
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
  readonly contentTypes = new Map<string, string>();
  /** Object ids (`bucket/key`) read through a presigned link. */
  readonly presignedReads: string[] = [];

  constructor(private readonly opts: S3FakeOptions) {}

  handle(request: AwsRequest, gate: Gate): Handled {
    const url = new URL(request.path, 'http://s3');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = rest.map(decodeURIComponent).join('/');
    const operation =
      request.method === 'PUT'
        ? 'PutObject'
        : request.method === 'GET'
          ? 'GetObject'
          : request.method === 'HEAD'
            ? 'HeadObject'
            : request.method;
    // HeadObject is allowed by s3:GetObject, as on S3.
    const action = operation === 'HeadObject' ? 'GetObject' : operation;
    const authorizations = [{ action: `s3:${action}`, resource: `arn:aws:s3:::${bucket}/${key}` }];
    const presigned = isPresigned(url, request);
    const done = (answer: Handled['answer']): Handled => ({ answer, operation, authorizations });
    if (gate(authorizations, request)) return done(xmlError(403, 'AccessDenied', key));
    if (!this.opts.buckets.includes(bucket)) return done(xmlError(404, 'NoSuchBucket', bucket));
    if (!key || (!presigned && url.search.replace(/^\?(x-id=\w+)?$/, '') !== '')) {
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
      this.contentTypes.set(id, String(request.headers['content-type'] ?? 'application/octet-stream'));
      return done({ status: 200, headers: { etag: etag(body) } });
    }
    if (operation === 'GetObject' || operation === 'HeadObject') {
      const body = this.objects.get(id);
      if (body) {
        if (presigned) this.presignedReads.push(id);
        return done({
          status: 200,
          headers: {
            etag: etag(body),
            'content-type': this.contentTypes.get(id) ?? 'application/octet-stream',
            'content-length': String(body.length),
          },
          body: operation === 'HeadObject' ? undefined : body,
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

/**
 * A presigned GET: SigV4 in the query (credential, date, expiry, signed headers, signature), nothing
 * else, and no Authorization header. Anything short of that is refused as unsupported.
 */
function isPresigned(url: URL, request: AwsRequest): boolean {
  if (request.method !== 'GET' || request.headers.authorization) return false;
  const q = url.searchParams;
  const needed = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-Signature'];
  return (
    needed.every((name) => q.has(name)) &&
    [...q.keys()].every((name) => name.startsWith('X-Amz-') || name === 'x-id') &&
    /^[0-9a-f]{64}$/.test(q.get('X-Amz-Signature') ?? '')
  );
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
