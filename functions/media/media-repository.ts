import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed, itemKey } from '#store/table';

/** What a finished copy records on its attachment: the copy, or why there is none. */
export type CopyOutcome =
  | { stored: { size: number; contentType: string; sha256: string }; mediaKey: string }
  | { copyError: string };

/**
 * Records a copy's outcome on attachment `index` of a stored message: one conditional update of that
 * attachment's own fields, so reactions, statuses and the attachment's other fields are left as they are,
 * and only the first outcome counts (a concurrent or redelivered copy finds it set).
 */
export class MediaRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * `applied`: this call recorded it; `settled`: an outcome was already there, or the message is gone or
   * was unsent meanwhile (its copies are erased, so none may be recorded).
   */
  async record(
    pageId: string,
    userId: string,
    mid: string,
    index: number,
    outcome: CopyOutcome,
  ): Promise<'applied' | 'settled'> {
    if (!Number.isInteger(index) || index < 0) throw new Error(`not an attachment index: ${index}`);
    const at = `#attachments[${index}]`;
    const stored = 'stored' in outcome;
    const update: { expr: string; names: Record<string, string> } = stored
      ? { expr: `${at}.#stored = :stored, ${at}.#mediaKey = :key`, names: { '#mediaKey': 'mediaKey' } }
      : { expr: `${at}.#copyError = :error`, names: {} };
    const values = stored
      ? { ':stored': outcome.stored, ':key': outcome.mediaKey }
      : { ':error': outcome.copyError };
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: itemKey(pageId, userId, mid),
          UpdateExpression: `SET ${update.expr}`,
          ConditionExpression: `attribute_exists(${at}) AND attribute_not_exists(${at}.#stored) AND attribute_not_exists(${at}.#copyError) AND attribute_not_exists(#deleted)`,
          ExpressionAttributeNames: {
            '#attachments': 'attachments',
            '#stored': 'stored',
            '#copyError': 'copyError',
            '#deleted': 'deleted',
            ...update.names,
          },
          ExpressionAttributeValues: values,
        }),
      );
      return 'applied';
    } catch (error) {
      if (isConditionFailed(error)) return 'settled';
      throw error;
    }
  }
}
