import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import type { TokenSealer } from '#ports/ports';
import { TokenSealError, TokenUnsealError } from '#ports/token-errors';

/**
 * Seals page tokens with KMS. The encryption context `{pageId}` binds each sealed token to its
 * page, so a sealed value copied to another page's record does not decrypt.
 */
export class KmsTokenSealer implements TokenSealer {
  constructor(
    private readonly client: KMSClient,
    private readonly keyId: string,
  ) {}

  async seal(pageId: string, token: string): Promise<string> {
    let ciphertext: Uint8Array | undefined;
    try {
      const output = await this.client.send(
        new EncryptCommand({
          KeyId: this.keyId,
          Plaintext: Buffer.from(token, 'utf8'),
          EncryptionContext: { pageId },
        }),
      );
      ciphertext = output.CiphertextBlob;
    } catch (err) {
      throw new TokenSealError(pageId, errorName(err));
    }
    if (!ciphertext) throw new TokenSealError(pageId, 'EmptyResponse');
    return Buffer.from(ciphertext).toString('base64');
  }

  async unseal(pageId: string, sealed: string): Promise<string> {
    let plaintext: Uint8Array | undefined;
    try {
      const output = await this.client.send(
        new DecryptCommand({
          KeyId: this.keyId,
          CiphertextBlob: Buffer.from(sealed, 'base64'),
          EncryptionContext: { pageId },
        }),
      );
      plaintext = output.Plaintext;
    } catch (err) {
      throw new TokenUnsealError(pageId, errorName(err));
    }
    if (!plaintext) throw new TokenUnsealError(pageId, 'EmptyResponse');
    return Buffer.from(plaintext).toString('utf8');
  }
}

/** Only the error's name: SDK messages are not ours to vet for secrets. */
function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'UnknownError';
}

/** The deployed sealer: KMS key `keyId` (KMS_KEY_ID). */
export const kmsSealer = (keyId: string): KmsTokenSealer => new KmsTokenSealer(new KMSClient({}), keyId);
