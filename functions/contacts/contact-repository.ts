import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ContactRecord } from '#contracts/contact-record';
import { recordOf } from '#store/records';
import {
  BY_TIME_INDEX,
  contactKey,
  PENDING_PREFIX,
  pagePk,
  pendingContactKey,
  queryAll,
  TSK,
} from '#store/table';

export class ContactRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(pageId: string, userId: string): Promise<ContactRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: contactKey(pageId, userId), ConsistentRead: true }),
    );
    return Item ? recordOf(ContactRecord, Item) : undefined;
  }

  /** Stores the contact; a pending one is also indexed (sparsely) so `listPending` reads only those. */
  async put(contact: ContactRecord): Promise<void> {
    const pending = contact.profileStatus === 'pending';
    const item = {
      ...contact,
      ...contactKey(contact.pageId, contact.userId),
      ...(pending ? { [TSK]: pendingContactKey(contact.userId) } : {}),
    };
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  /** Contacts of the page whose profile is still to be fetched. */
  async listPending(pageId: string): Promise<ContactRecord[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: BY_TIME_INDEX,
      KeyConditionExpression: 'pk = :pk AND begins_with(#tsk, :pending)',
      ExpressionAttributeNames: { '#tsk': TSK },
      ExpressionAttributeValues: { ':pk': pagePk(pageId), ':pending': PENDING_PREFIX },
      ConsistentRead: true,
    });
    return items.map((item) => recordOf(ContactRecord, item));
  }
}
