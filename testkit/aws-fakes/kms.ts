/**
 * KMS (JSON 1.1, `TrentService.Encrypt`/`Decrypt`) for symmetric keys, strict where Pagewire relies
 * on it: a ciphertext decrypts only under the key and the exact encryption context it was sealed with
 * (AES-GCM with the key and context as additional data), as KMS answers InvalidCiphertextException.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Authorization } from '../iam.js';
import {
  type AwsRequest,
  type FakeService,
  type Gate,
  type Handled,
  jsonAnswer,
  jsonError,
} from './types.js';

type Context = Record<string, string>;

export class KmsFake implements FakeService {
  private readonly secret = randomBytes(32);

  /** `keyArns`: the ARNs of the keys that exist (`arn:aws:kms:<region>:<account>:key/<id>`). */
  constructor(private readonly keyArns: string[]) {}

  handle(request: AwsRequest, gate: Gate): Handled {
    const input = JSON.parse(request.body.toString('utf8') || '{}') as {
      KeyId?: string;
      Plaintext?: string;
      CiphertextBlob?: string;
      EncryptionContext?: Context;
    };
    const context = input.EncryptionContext ?? {};
    const operation = request.operation;
    const sealed = operation === 'Decrypt' ? this.open(input.CiphertextBlob) : undefined;
    const keyArn = this.keyArn(input.KeyId ?? sealed?.key);
    const authorizations: Authorization[] = [
      { action: `kms:${operation}`, resource: keyArn ?? String(input.KeyId), context: contextKeys(context) },
    ];
    const done = (answer: Handled['answer']): Handled => ({ answer, operation, authorizations });
    const denied = gate(authorizations, request);
    if (denied) return done(denied);
    if (!keyArn) return done(jsonError(400, 'NotFoundException', `Key '${input.KeyId}' does not exist`));
    if (operation === 'Encrypt') {
      const plaintext = Buffer.from(input.Plaintext ?? '', 'base64');
      if (plaintext.length === 0 || plaintext.length > 4096) {
        return done(jsonError(400, 'ValidationException', 'Plaintext must be 1 to 4096 bytes'));
      }
      return done(
        jsonAnswer({
          KeyId: keyArn,
          CiphertextBlob: this.seal(keyArn, context, plaintext),
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        }),
      );
    }
    if (operation === 'Decrypt') {
      if (!sealed || sealed.key !== keyArn) return done(jsonError(400, 'IncorrectKeyException', 'wrong key'));
      const plaintext = this.decrypt(sealed, context);
      if (!plaintext) return done(jsonError(400, 'InvalidCiphertextException', ''));
      return done(
        jsonAnswer({
          KeyId: keyArn,
          Plaintext: plaintext.toString('base64'),
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        }),
      );
    }
    return done(jsonError(400, 'UnsupportedOperationException', `the fake does not implement ${operation}`));
  }

  private keyArn(id: string | undefined): string | undefined {
    if (!id) return undefined;
    return this.keyArns.find((arn) => arn === id || arn.endsWith(`:key/${id}`));
  }

  private seal(key: string, context: Context, plaintext: Buffer): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.secret, iv).setAAD(aad(key, context));
    const data = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return Buffer.from(
      JSON.stringify({ key, iv: iv.toString('base64'), data: data.toString('base64') }),
    ).toString('base64');
  }

  private open(blob: string | undefined): { key: string; iv: string; data: string } | undefined {
    try {
      return JSON.parse(Buffer.from(blob ?? '', 'base64').toString('utf8'));
    } catch {
      return undefined;
    }
  }

  private decrypt(sealed: { key: string; iv: string; data: string }, context: Context): Buffer | undefined {
    const data = Buffer.from(sealed.data, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.secret, Buffer.from(sealed.iv, 'base64'))
        .setAAD(aad(sealed.key, context))
        .setAuthTag(data.subarray(-16));
      return Buffer.concat([decipher.update(data.subarray(0, -16)), decipher.final()]);
    } catch {
      return undefined;
    }
  }
}

function aad(key: string, context: Context): Buffer {
  return Buffer.from(JSON.stringify([key, Object.entries(context).sort(([a], [b]) => a.localeCompare(b))]));
}

/** The condition keys IAM sees for a KMS request with this encryption context. */
function contextKeys(context: Context): Record<string, string | string[]> {
  return {
    'kms:EncryptionContextKeys': Object.keys(context),
    ...Object.fromEntries(Object.entries(context).map(([k, v]) => [`kms:EncryptionContext:${k}`, v])),
  };
}
