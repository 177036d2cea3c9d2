import {
  DecryptCommand,
  EncryptCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  KMSClient,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { KmsTokenSealer } from '#adapters/aws/kms-token-sealer';
import { TokenSealError, TokenUnsealError } from '#ports/token-errors';
import { first, only } from '#testkit/pick';

const KEY_ID = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const TOKEN = 'EAAGm0PX4ZCpsBAPageTokenSecret';
const CIPHERTEXT = Buffer.from('opaque-kms-ciphertext-blob');
const kms = mockClient(KMSClient);

function sealer(): KmsTokenSealer {
  return new KmsTokenSealer(new KMSClient({ region: 'us-east-1' }), KEY_ID);
}

beforeEach(() => kms.reset());

describe('KmsTokenSealer', () => {
  it('encrypts the UTF-8 token under the key with the page as encryption context', async () => {
    kms.on(EncryptCommand).resolves({ CiphertextBlob: CIPHERTEXT, KeyId: KEY_ID });
    const sealed = await sealer().seal('1234', TOKEN);
    expect(sealed).toBe(CIPHERTEXT.toString('base64'));
    const call = only(kms.commandCalls(EncryptCommand), 'Encrypt call');
    const input = first(call.args, 'args').input;
    expect(Object.keys(input).sort()).toEqual(['EncryptionContext', 'KeyId', 'Plaintext']);
    expect(input.KeyId).toBe(KEY_ID);
    expect(input.EncryptionContext).toEqual({ pageId: '1234' });
    expect(Buffer.from(input.Plaintext as Uint8Array).toString('utf8')).toBe(TOKEN);
  });

  it('decrypts with the key and the same encryption context', async () => {
    kms.on(DecryptCommand).resolves({ Plaintext: Buffer.from(TOKEN, 'utf8'), KeyId: KEY_ID });
    await expect(sealer().unseal('1234', CIPHERTEXT.toString('base64'))).resolves.toBe(TOKEN);
    const input = only(kms.commandCalls(DecryptCommand), 'Decrypt call').args[0].input;
    expect(Object.keys(input).sort()).toEqual(['CiphertextBlob', 'EncryptionContext', 'KeyId']);
    expect(input.KeyId).toBe(KEY_ID);
    expect(input.EncryptionContext).toEqual({ pageId: '1234' });
    expect(Buffer.from(input.CiphertextBlob as Uint8Array).equals(CIPHERTEXT)).toBe(true);
  });

  it('round-trips non-ASCII tokens', async () => {
    let stored: Uint8Array | undefined;
    kms.on(EncryptCommand).callsFake((input) => {
      stored = input.Plaintext;
      return { CiphertextBlob: CIPHERTEXT };
    });
    kms.on(DecryptCommand).callsFake(() => ({ Plaintext: stored }));
    const s = sealer();
    await expect(s.unseal('1', await s.seal('1', 'tøkén✓'))).resolves.toBe('tøkén✓');
  });

  it('reports a seal failure with the page and the KMS error name, not the token', async () => {
    kms.on(EncryptCommand).rejects(new IncorrectKeyException({ message: `nope ${TOKEN}`, $metadata: {} }));
    const error = await sealer()
      .seal('1234', TOKEN)
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TokenSealError);
    expect(error).toMatchObject({ pageId: '1234', reason: 'IncorrectKeyException' });
    expect((error as Error).message).toContain('1234');
    expect(`${(error as Error).message} ${(error as Error).stack} ${JSON.stringify(error)}`).not.toContain(
      TOKEN,
    );
  });

  it('reports an unseal failure (e.g. another page) without ciphertext or plaintext', async () => {
    kms.on(DecryptCommand).rejects(new InvalidCiphertextException({ message: 'bad context', $metadata: {} }));
    const sealed = CIPHERTEXT.toString('base64');
    const error = await sealer()
      .unseal('9999', sealed)
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TokenUnsealError);
    expect(error).toMatchObject({ pageId: '9999', reason: 'InvalidCiphertextException' });
    const text = `${(error as Error).message} ${JSON.stringify(error)}`;
    expect(text).not.toContain(sealed);
    expect(text).not.toContain(TOKEN);
  });

  it('fails when KMS answers without data', async () => {
    kms.on(EncryptCommand).resolves({});
    kms.on(DecryptCommand).resolves({});
    await expect(sealer().seal('1', TOKEN)).rejects.toBeInstanceOf(TokenSealError);
    await expect(sealer().unseal('1', 'AAAA')).rejects.toBeInstanceOf(TokenUnsealError);
  });
});
