import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ClassicLevel } from 'classic-level';
import dynalite from 'dynalite';
import { documentClientConfig, tableDefinition } from '#store/table';

export interface LocalDynamo {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Serves the DynamoDB API in-process on 127.0.0.1 (random port): persisted as LevelDB under `path`,
 * or in memory without one. Tables are ACTIVE as soon as they are created.
 */
export async function startDynalite(opts: { path?: string } = {}): Promise<LocalDynamo> {
  if (opts.path) {
    await mkdir(opts.path, { recursive: true });
    await ensureNotInUse(opts.path);
  }
  const server = dynalite({ path: opts.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/**
 * LevelDB allows one process per folder, and dynalite would only crash later with "Database is
 * closed". Open it once first, to say plainly what is wrong.
 */
async function ensureNotInUse(path: string): Promise<void> {
  const db = new ClassicLevel(path);
  try {
    await db.open();
  } catch {
    throw new Error(
      `the data folder ${path} is in use by another process (another npm start?): stop it, or set DATA_DIR, or MEMORY=1`,
    );
  }
  await db.close();
}

export interface DynamoClients {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
}

/** SDK clients for a local endpoint, with dummy static credentials. */
export function dynamoClients(endpoint: string, region = 'us-east-1'): DynamoClients {
  const client = new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { client, doc: DynamoDBDocumentClient.from(client, documentClientConfig) };
}

/**
 * Creates the Pagewire table unless it exists, then waits (the SDK's waiter: DescribeTable until
 * ACTIVE, which DynamoDB reports once the indexes created with the table are built too). Local stack
 * and tests only: deployed tables are CloudFormation's.
 */
export async function createTableIfMissing(
  client: DynamoDBClient,
  tableName: string,
  timeoutMs = 60_000,
): Promise<void> {
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  // The waiter asks at once; dynalite (createTableMs: 0) answers ACTIVE on that first call.
  await waitUntilTableExists(
    { client, maxWaitTime: timeoutMs / 1000, minDelay: 0.1, maxDelay: 2 },
    { TableName: tableName },
  );
}
