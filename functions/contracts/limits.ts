/**
 * Numbers several parts must agree on, defined once: the CDK queues, the local queue and the processor.
 */

/** Receives of a queue message before it is set aside in the dead-letter queue (SQS redrive policy). */
export const MAX_RECEIVE_COUNT = 5;
