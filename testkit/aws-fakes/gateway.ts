/**
 * One loopback endpoint for every AWS service a bundle calls (`AWS_ENDPOINT_URL`). It tells the
 * service from the SigV4 credential scope and the caller from the access key id (one per function),
 * hands the request to that service's fake, and records each call with what IAM would authorize for
 * it. A service without a fake answers an error and is recorded all the same, so the IAM check and
 * the test see it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Authorization } from '../iam.js';
import { type AwsAnswer, type AwsRequest, type FakeService, jsonError } from './types.js';

export interface AwsCall {
  /** The access key id that signed it. */
  principal: string;
  service: string;
  operation: string;
  status: number;
  authorizations: Authorization[];
}

const SCOPE = /Credential=([^/]+)\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/;

export class AwsGateway {
  readonly calls: AwsCall[] = [];
  private server?: Server;
  private base = '';
  private readonly waiters: Array<{ match: (c: AwsCall) => boolean; resolve: (c: AwsCall) => void }> = [];

  /**
   * `allow` says whether the signing principal may make these calls; by default every call goes through
   * (and is only recorded). A call it refuses answers AccessDenied before the fake acts on it.
   */
  constructor(
    private readonly services: Record<string, FakeService>,
    private readonly allow: (principal: string, authorizations: Authorization[]) => boolean = () => true,
  ) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.serve(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.base;
  }

  get url(): string {
    return this.base;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  callsBy(principal: string): AwsCall[] {
    return this.calls.filter((c) => c.principal === principal);
  }

  /** Resolves with the first call (already made or still to come) that matches. */
  waitForCall(match: (c: AwsCall) => boolean): Promise<AwsCall> {
    const made = this.calls.find(match);
    if (made) return Promise.resolve(made);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  private record(call: AwsCall): void {
    this.calls.push(call);
    for (const waiter of this.waiters.filter((w) => w.match(call))) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(call);
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    // Signed in the Authorization header, or presigned (S3 GET links: X-Amz-Credential in the query).
    const presigned = new URL(req.url ?? '/', 'http://gateway').searchParams.get('X-Amz-Credential');
    const [, principal = 'unsigned', service = 'unknown'] =
      SCOPE.exec(String(req.headers.authorization ?? '')) ??
      (presigned ? SCOPE.exec(`Credential=${presigned}/`) : null) ??
      [];
    const target = String(req.headers['x-amz-target'] ?? '');
    const request: AwsRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks),
      service,
      principal,
      operation: target.split('.').at(-1) ?? '',
    };
    const fake = this.services[service];
    try {
      const handled = fake
        ? await fake.handle(request, (auths) =>
            this.allow(principal, auths) ? undefined : accessDenied(auths),
          )
        : {
            operation: request.operation || `${request.method} ${request.path}`,
            authorizations: [{ action: `${service}:${request.operation || request.method}`, resource: '*' }],
            answer: jsonError(400, 'UnrecognizedClientException', `no fake for the service ${service}`),
          };
      this.record({
        principal,
        service,
        operation: handled.operation,
        status: handled.answer.status,
        authorizations: handled.authorizations,
      });
      res.writeHead(handled.answer.status, { 'x-amzn-requestid': 'fake', ...handled.answer.headers });
      res.end(handled.answer.body);
    } catch (error) {
      this.record({ principal, service, operation: request.operation, status: 500, authorizations: [] });
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ __type: 'InternalFailure', message: String(error) }));
    }
  }
}

function accessDenied(authorizations: Authorization[]): AwsAnswer {
  const [first] = authorizations;
  const what = first ? `${first.action} on resource: ${first.resource}` : 'this call';
  return jsonError(
    400,
    'AccessDeniedException',
    `User is not authorized to perform: ${what} (bundle test IAM check)`,
    '1.0',
  );
}
