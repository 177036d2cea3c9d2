import { dynamoTable } from '#adapters/aws/dynamodb';
import { eventBridgePublisher } from '#adapters/aws/eventbridge-publisher';
import { s3MediaStore } from '#adapters/aws/s3-media-store';
import { configOf } from '#app/config';
import { composeMedia } from '#app/media';
import { MediaEnv, readEnv } from '#contracts/env';

const env = readEnv(MediaEnv);
export const handler = composeMedia(
  configOf(env),
  {
    table: dynamoTable(),
    publisher: eventBridgePublisher(env.EVENT_BUS_NAME),
    media: s3MediaStore(env.MEDIA_BUCKET),
  },
  { mediaHosts: env.MEDIA_HOSTS },
);
