/**
 * Secrets Manager (JSON 1.1, `secretsmanager.GetSecretValue`): a secret found by its name or ARN, as
 * AWS does; IAM authorizes the call on the secret's full ARN either way.
 */
import {
  type AwsRequest,
  type FakeService,
  type Gate,
  type Handled,
  jsonAnswer,
  jsonError,
} from './types.js';

export class SecretsFake implements FakeService {
  /** `secrets`: full ARN (`…:secret:<name>-<6 chars>`) → the secret string. */
  constructor(private readonly secrets: Map<string, string>) {}

  handle(request: AwsRequest, gate: Gate): Handled {
    const { SecretId: id = '' } = JSON.parse(request.body.toString('utf8') || '{}') as { SecretId?: string };
    const arn = [...this.secrets.keys()].find((a) => a === id || nameOf(a) === id);
    const operation = request.operation;
    const authorizations = [{ action: `secretsmanager:${operation}`, resource: arn ?? id }];
    const done = (answer: Handled['answer']): Handled => ({ answer, operation, authorizations });
    const denied = gate(authorizations, request);
    if (denied) return done(denied);
    if (operation !== 'GetSecretValue') {
      return done(jsonError(400, 'InvalidRequestException', `the fake does not implement ${operation}`));
    }
    if (!arn)
      return done(
        jsonError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret."),
      );
    return done(
      jsonAnswer({
        ARN: arn,
        Name: nameOf(arn),
        SecretString: this.secrets.get(arn),
        VersionId: '00000000-0000-4000-8000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_764_633_600,
      }),
    );
  }
}

/** The name inside a secret's ARN (without the 6-character suffix AWS appends). */
export function nameOf(arn: string): string {
  const [, name] = arn.split(':secret:');
  if (name === undefined) throw new Error(`${arn} is not a secret ARN`);
  return name.replace(/-[A-Za-z0-9]{6}$/, '');
}
