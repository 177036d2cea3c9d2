/**
 * One SDK middleware for tests and bench: a document client whose every command passes through a tap
 * (record, hold, fail, meter) before it is marshalled and sent. It replaces the `send` monkeypatches the
 * processor harness, the chaos harness and the bench meter each had.
 *
 * The tap sits on its OWN DynamoDBClient: a document client shares its client's middleware stack, so a
 * tap added to the shared one would also catch the test's own reads and writes.
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { dynamoClients } from '#local/dynalite';

/** One document command as the tap sees it (input and output unmarshalled, as the caller wrote them). */
export interface TappedCall {
  /** The document command's name, e.g. `PutCommand`. */
  name: string;
  /** A document command with the same input, for `instanceof` matching. */
  command: unknown;
  /** The caller's input; a tap may change it before `send` (it goes to DynamoDB as changed). */
  input: Record<string, unknown>;
}

/** Runs around one call: `send()` goes on to DynamoDB and answers its (unmarshalled) output. */
export type Tap = (
  call: TappedCall,
  send: () => Promise<Record<string, unknown>>,
) => Promise<Record<string, unknown>>;

// biome-ignore lint/suspicious/noExplicitAny: the document commands' constructors differ only in their input type
type DocumentCommand = new (input: any) => unknown;

/** The low-level command the middleware sees → the document command the caller sent. */
const DOCUMENT_COMMANDS: Record<string, DocumentCommand> = {
  GetItemCommand: GetCommand,
  PutItemCommand: PutCommand,
  UpdateItemCommand: UpdateCommand,
  DeleteItemCommand: DeleteCommand,
  QueryCommand,
  ScanCommand,
  BatchGetItemCommand: BatchGetCommand,
  BatchWriteItemCommand: BatchWriteCommand,
  TransactGetItemsCommand: TransactGetCommand,
  TransactWriteItemsCommand: TransactWriteCommand,
};

/** A document client on the DynamoDB at `endpoint` (its own SDK client) whose commands go through `tap`. */
export function tappedDocClient(endpoint: string, tap: Tap): DynamoDBDocumentClient {
  const { doc } = dynamoClients(endpoint);
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      const documentCommand = DOCUMENT_COMMANDS[context.commandName ?? ''];
      const input = args.input as Record<string, unknown>;
      const call: TappedCall = {
        name: documentCommand?.name ?? context.commandName ?? '?',
        command: documentCommand ? new documentCommand(input) : undefined,
        input,
      };
      let response: unknown;
      const output = await tap(call, async () => {
        const result = await next({ ...args, input: call.input });
        response = result.response;
        return result.output as Record<string, unknown>;
      });
      // biome-ignore lint/suspicious/noExplicitAny: the middleware's output type is the command's
      return { output: output as any, response };
    },
    // Initialize: before the document client marshals the input (serialize step) and after it unmarshals
    // the output, so the tap reads and writes plain JavaScript values.
    { step: 'initialize', name: 'pagewireTestTap' },
  );
  return doc;
}
