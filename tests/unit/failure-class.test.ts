/** Which processor failures are retried and which are quarantined (functions/processor/failure-class.ts). */
import { describe, expect, it } from 'vitest';
import { LockUnavailableError } from '../../functions/commons/lock/conversation-lock.js';
import { PoisonError } from '../../functions/commons/poison-error.js';
import { classifyFailure } from '../../functions/processor/failure-class.js';

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
