/** The S3 client alone, for a dynamic import (s3-blobs.ts): the bundler keeps only what is used. */
export { S3Client } from '@aws-sdk/client-s3';
