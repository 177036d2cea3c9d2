import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  CONNECT_LINK_KEEP_SECONDS,
  type ConnectedPageView,
  ConnectLinkRecord,
  type ConnectLinkStatus,
} from '#contracts/connect-link';
import { isConditionFailed, linkKey } from '#store/table';

/** What a claim found: it moved the link, or why it could not. */
export type ClaimOutcome = 'claimed' | 'unknown' | 'expired' | 'used';

/**
 * Connect links in the one table (`LINK#{linkId}` / `LINK`). Every move of a link's status is one
 * conditional write from the states it may come from, and only while the link is unexpired: two
 * callbacks of one link at once (a replayed redirect, a double click) cannot both pass, whatever the
 * timing, because DynamoDB applies one of the two conditional writes first and refuses the other.
 */
export class ConnectLinkStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(linkId: string, createdAt: number, expiresAt: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...linkKey(linkId),
          linkId,
          status: 'created' satisfies ConnectLinkStatus,
          createdAt: new Date(createdAt).toISOString(),
          expiresAt: new Date(expiresAt).toISOString(),
          expiresAtMs: expiresAt,
          // DynamoDB TTL (epoch seconds): the record, and its result, go a day after the link expired.
          ttl: Math.ceil(expiresAt / 1000) + CONNECT_LINK_KEEP_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(linkId: string): Promise<ConnectLinkRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: linkKey(linkId), ConsistentRead: true }),
    );
    return Item ? ConnectLinkRecord.parse(Item) : undefined;
  }

  /**
   * Moves the link from one of `from` to `to` if it is unexpired at `now`, setting `set` too. The
   * one door every step goes through: single use of the state is this write's condition.
   */
  async move(
    linkId: string,
    from: ConnectLinkStatus[],
    to: ConnectLinkStatus,
    now: number,
    set: Partial<Pick<ConnectLinkRecord, 'sealedUserToken' | 'csrfHash' | 'error'>> = {},
  ): Promise<ClaimOutcome> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':to': to, ':now': now, ':at': new Date(now).toISOString() };
    from.forEach((s, i) => {
      values[`:from${i}`] = s;
    });
    const assignments = ['#status = :to', 'updatedAt = :at'];
    for (const [key, value] of Object.entries(set)) {
      if (value === undefined) continue;
      names[`#${key}`] = key;
      values[`:${key}`] = value;
      assignments.push(`#${key} = :${key}`);
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: linkKey(linkId),
          UpdateExpression: `SET ${assignments.join(', ')}`,
          ConditionExpression: `attribute_exists(pk) AND expiresAtMs > :now AND #status IN (${from
            .map((_, i) => `:from${i}`)
            .join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return 'claimed';
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      const link = await this.get(linkId);
      if (!link) return 'unknown';
      return Date.parse(link.expiresAt) <= now ? 'expired' : 'used';
    }
  }

  /** The end of a link: `done` with each page's status, the sealed user token erased. */
  async finish(linkId: string, result: ConnectedPageView[], now: number): Promise<void> {
    await this.end(linkId, 'done', now, { result });
  }

  /**
   * `failed`, with the reason, from any state but `done` (an expired link may fail too: the CLI then
   * reads why). The sealed user token is erased.
   */
  async fail(linkId: string, error: string, now: number): Promise<void> {
    await this.end(linkId, 'failed', now, { error });
  }

  private async end(
    linkId: string,
    status: 'done' | 'failed',
    now: number,
    set: { result?: ConnectedPageView[]; error?: string },
  ): Promise<void> {
    const [key, value] = set.result ? ['result', set.result] : ['error', set.error];
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: linkKey(linkId),
          UpdateExpression:
            'SET #status = :to, updatedAt = :at, #value = :value REMOVE sealedUserToken, csrfHash',
          ConditionExpression: 'attribute_exists(pk) AND #status <> :done',
          ExpressionAttributeNames: { '#status': 'status', '#value': key as string },
          ExpressionAttributeValues: {
            ':to': status,
            ':at': new Date(now).toISOString(),
            ':value': value,
            ':done': 'done',
          },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }
}
