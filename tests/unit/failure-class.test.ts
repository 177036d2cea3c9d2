/** Which processor failures are retried and which are quarantined (functions/conversations/failure-class.ts). */
import { describe, expect, it } from 'vitest';
import { classifyFailure } from '#conversations/failure-class';
import { LockUnavailableError } from '#ports/conversation-lock';
import { PoisonError } from '#runtime/poison-error';

const named = (name: string, message = `${name} (test)`) => Object.assign(new Error(message), { name });

describe('classifyFailure', () => {
  it('quarantines what fails the same way every time, with its reason and message', () => {
    expect(
      classifyFailure(new PoisonError('KeyTooLarge', 'the key attribute sk would exceed 1024 bytes')),
    ).toEqual({
      retry: false,
      reason: 'KeyTooLarge',
      detail: 'the key attribute sk would exceed 1024 bytes',
    });
    for (const name of [
      'ValidationException',
      'SerializationException',
      'ItemCollectionSizeLimitExceededException',
    ]) {
      expect(classifyFailure(named(name, 'Item size has exceeded the maximum allowed size'))).toEqual({
        retry: false,
        reason: name,
        detail: 'Item size has exceeded the maximum allowed size',
      });
    }
  });

  it('retries throttles, server errors, timeouts, network errors, the lock, the environment and anything unknown', () => {
    const transient = [
      named('ProvisionedThroughputExceededException'),
      named('ThrottlingException'),
      named('RequestLimitExceeded'),
      named('InternalServerError'),
      named('ServiceUnavailable'),
      named('TimeoutError'),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      new TypeError('fetch failed'),
      new LockUnavailableError('p:u', 'contended', 'held by another consumer'),
      named('AccessDeniedException'),
      named('ResourceNotFoundException'),
      named('NoSuchBucket'),
      new Error('something nobody classified'),
      'a thrown string',
      undefined,
    ];
    for (const err of transient)
      expect(classifyFailure(err).retry, String((err as Error)?.name ?? err)).toBe(true);
    expect(classifyFailure(named('ProvisionedThroughputExceededException'))).toEqual({
      retry: true,
      reason: 'ProvisionedThroughputExceededException',
    });
  });
});

describe('classifyFailure on the last receive', () => {
  it('quarantines an unclassified failure instead of dead-lettering it with the events behind it', () => {
    for (const err of [
      new Error('something nobody classified'),
      named('AccessDeniedException'),
      'a string',
    ]) {
      expect(classifyFailure(err, 4).retry).toBe(true);
      expect(classifyFailure(err, 5)).toMatchObject({ retry: false, reason: 'RetriesExhausted' });
    }
  });

  it('still retries known transient faults, which would fail the events behind it too', () => {
    const transient = [
      named('ProvisionedThroughputExceededException'),
      named('ThrottlingException'),
      named('InternalServerError'),
      named('TimeoutError'),
      new LockUnavailableError('p:u', 'contended', 'held by another consumer'),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      Object.assign(named('UnknownError'), { $metadata: { httpStatusCode: 503 } }),
    ];
    for (const err of transient)
      expect(classifyFailure(err, 5).retry, String((err as Error).name)).toBe(true);
  });
});
