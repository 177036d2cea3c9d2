import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTableIfMissing, dynamoClients, startDynalite } from '#local/dynalite';

export interface TestDynamo {
  endpoint: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** Creates a fresh Pagewire table with a unique name and answers its name. */
  createTable(): Promise<string>;
  stop(): Promise<void>;
}

export interface TestTable extends TestDynamo {
  tableName: string;
}

/** dynalite on loopback (in memory unless `path`), with SDK clients for it. */
export async function startTestDynamo(opts: { path?: string } = {}): Promise<TestDynamo> {
  const dynamo = await startDynalite(opts);
  const { client, doc } = dynamoClients(dynamo.endpoint);
  return {
    endpoint: dynamo.endpoint,
    client,
    doc,
    async createTable() {
      const tableName = `test-${randomUUID()}`;
      await createTableIfMissing(client, tableName);
      return tableName;
    },
    async stop() {
      client.destroy();
      await dynamo.stop();
    },
  };
}

/** dynalite in memory plus one fresh table. */
export async function startTestTable(): Promise<TestTable> {
  const dynamo = await startTestDynamo();
  return { ...dynamo, tableName: await dynamo.createTable() };
}
