/**
 * Errors of the token sealers (KMS on AWS, the local keyring). They name the page and the reason,
 * never the token or the sealed value: both would leak a credential into logs and HTTP answers.
 */
export class TokenSealError extends Error {
  override readonly name = 'TokenSealError';

  constructor(
    readonly pageId: string,
    readonly reason: string,
  ) {
    super(`Could not seal the token of page ${pageId}: ${reason}`);
  }
}

export class TokenUnsealError extends Error {
  override readonly name = 'TokenUnsealError';

  constructor(
    readonly pageId: string,
    readonly reason: string,
  ) {
    super(`Could not unseal the token of page ${pageId}: ${reason}`);
  }
}
