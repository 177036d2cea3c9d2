import type { Authorization } from '../iam.js';

/** A request as the gateway read it: the body whole, the service from the SigV4 credential scope. */
export interface AwsRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  service: string;
  /** The access key id that signed the request: which function called. */
  principal: string;
  /** The JSON protocols' `x-amz-target` operation, e.g. `Encrypt`. */
  operation: string;
}

export interface AwsAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** What one fake service makes of a request: the answer and what IAM authorizes for it. */
export interface Handled {
  answer: AwsAnswer;
  /** The operation's name, e.g. `GetObject` (REST protocols name none in a header). */
  operation: string;
  authorizations: Authorization[];
}

/**
 * Asked before a fake acts on a request: an answer (AccessDenied) when the caller's role does not allow
 * these authorizations, so a missing grant fails the bundle as it would on AWS.
 */
export type Gate = (authorizations: Authorization[], request: AwsRequest) => AwsAnswer | undefined;

export interface FakeService {
  handle(request: AwsRequest, gate: Gate): Promise<Handled> | Handled;
}

/** An error in the AWS JSON protocols' shape (`__type`, `message`). */
export function jsonError(status: number, type: string, message: string, json = '1.1'): AwsAnswer {
  return {
    status,
    headers: { 'content-type': `application/x-amz-json-${json}`, 'x-amzn-errortype': type },
    body: JSON.stringify({ __type: type, message }),
  };
}

export function jsonAnswer(body: unknown, json = '1.1'): AwsAnswer {
  return {
    status: 200,
    headers: { 'content-type': `application/x-amz-json-${json}` },
    body: JSON.stringify(body),
  };
}
