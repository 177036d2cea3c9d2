/**
 * A failure that depends only on the input: running the same input again fails the same way, so a
 * retry only holds back what queues behind it. The processor quarantines the event instead.
 *
 * `reason` is a short code for operators and logs (`UnstorableValue`, `KeyTooLarge`, …); the message
 * may name a value of the input, so it is kept with the quarantine record and never logged.
 */
export class PoisonError extends Error {
  override readonly name = 'PoisonError';

  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
