/** The S3 client alone, for a dynamic import (aws-adapters.ts): the bundler keeps only what is used. */
export { S3Client } from '@aws-sdk/client-s3';
