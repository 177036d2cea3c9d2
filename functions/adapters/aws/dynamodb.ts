import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClientConfig } from '#store/table';

/** The document client every repository expects (undefined attributes are left out). */
export function documentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), documentClientConfig);
}

/** The deployed table's client (region and credentials from the Lambda environment). */
export const dynamoTable = (): DynamoDBDocumentClient => documentClient();
