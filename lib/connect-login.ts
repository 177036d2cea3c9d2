/**
 * Facebook Login (SPEC §12) on AWS: a small function of its own serves the public routes
 * `GET /connect/facebook` and `GET`/`POST /connect/facebook/callback`, without IAM (a browser coming
 * back from Facebook cannot sign requests: the link's state is the credential, single use and
 * short-lived, checked in the function), each route with its own small throttle. It connects pages as
 * the admin function does: it reads and writes the table, seals and unseals with the token key (page
 * tokens bound to their page, the user token bound to its link, both under the one `pageId` context
 * key), reads the app secret, sends page commands and publishes page status events (granted by the
 * stack, as for every function that stores changes).
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Data } from './data.js';
import { ADMIN_COMMAND_WAIT_MS } from './page-management.js';
import { PagewireFunction } from './pagewire-function.js';
import type { PagewireSettings } from './settings.js';

/** API Gateway answers 503 after 30 s; the picker's submit waits for the page commands like the admin API. */
export const CONNECT_TIMEOUT = Duration.seconds(29);

export interface ConnectLoginProps {
  data: Data;
  settings: PagewireSettings;
  commandsQueue: sqs.IQueue;
}

export class ConnectLogin extends Construct {
  readonly fn: PagewireFunction;

  constructor(scope: Construct, id: string, props: ConnectLoginProps) {
    super(scope, id);
    const { data, settings, commandsQueue } = props;
    this.fn = new PagewireFunction(this, 'Connect', {
      name: 'connect',
      description: 'Pagewire: Facebook Login connect pages (public /connect/facebook routes)',
      timeout: CONNECT_TIMEOUT,
      environment: {
        TABLE_NAME: data.table.tableName,
        KMS_KEY_ID: data.tokenKey.keyArn,
        APP_SECRET_NAME: data.appSecret.secretName,
        GRAPH_API_VERSION: settings.graphApiVersion,
        PAGE_COMMANDS_QUEUE_URL: commandsQueue.queueUrl,
        COMMAND_WAIT_MS: String(ADMIN_COMMAND_WAIT_MS),
      },
    });
    data.grantTableReadWrite(this.fn.role);
    // It seals the page tokens of the pages it connects, and its links' user tokens; it opens only the
    // latter (page commands do the subscribing): no page token can be read through the public routes.
    data.grantTokenSealing(this.fn.role);
    data.grantLinkTokens(this.fn.role);
    data.grantAppSecretRead(this.fn.role);
    this.fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [commandsQueue.queueArn] }),
    );
  }
}
