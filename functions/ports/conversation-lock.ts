import type { Deadline } from '#runtime/deadline';

/**
 * The optional conversation lock: defence in depth on top of SQS FIFO ordering.
 *
 * Ordering is the queue's job: one message group per conversation, so one consumer at a time. The lock
 * only matters when a second consumer might touch the same conversation anyway (a redrive from the
 * dead-letter queue while the group moves on, a second deployment reading the same table). It is not
 * fair and never reorders anything: when it cannot be taken in time the record fails, and SQS
 * redelivers it (and the rest of its group, `skipGroupOnError`) later, in order.
 */
export interface ConversationLock {
  /**
   * Runs `work` while holding the lock on `key`; resolves or rejects with the work's own outcome. The
   * wait for the lock ends before `deadline`, the invocation's (NO_DEADLINE outside one).
   */
  withLock<T>(key: string, work: () => Promise<T>, deadline: Deadline): Promise<T>;
}

/** No lock (the default): the FIFO group alone serialises a conversation. */
export class NoLock implements ConversationLock {
  withLock<T>(_key: string, work: () => Promise<T>, _deadline: Deadline): Promise<T> {
    return work();
  }

  async close(): Promise<void> {}
}

/**
 * The lock could not be taken: another consumer held it for the whole wait (`contended`), or the lock
 * store did not answer (`backend`). Either way the work did not run, and retrying the record later is
 * the cure. The message names the key, never the store's address or credentials.
 */
export class LockUnavailableError extends Error {
  override readonly name = 'LockUnavailableError';

  constructor(
    readonly key: string,
    readonly reason: 'contended' | 'backend',
    detail: string,
  ) {
    super(`conversation lock "${key}" unavailable (${reason}): ${detail}`);
  }
}
