import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerCredentials } from '../commons/app-credentials.js';
import { KmsTokenSealer } from '../commons/aws/kms-token-sealer.js';
import { loadConfig, required } from '../commons/config.js';
import { lambda } from '../commons/lambda.js';
import { documentClient } from '../commons/store/document-client.js';
import { createAdminApi } from './admin-api.js';
import { adminDeps } from './admin-deps.js';

const config = loadConfig();
const doc = documentClient();

export const handler = lambda(
  createAdminApi(
    adminDeps(
      config,
      doc,
      new KmsTokenSealer(new KMSClient({}), required(config.kmsKeyId, 'KMS_KEY_ID')),
      new SecretsManagerCredentials(required(config.appSecretName, 'APP_SECRET_NAME')),
    ),
  ),
);
