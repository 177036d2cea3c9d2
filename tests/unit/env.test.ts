import { describe, expect, it } from 'vitest';
import { configOf, loadConfig } from '#app/config';
import {
  AdminEnv,
  EnvError,
  LocalEnv,
  OpsEnv,
  PageCommandsEnv,
  ProcessorEnv,
  readEnv,
  VerifierEnv,
} from '#contracts/env';

const processor = {
  TABLE_NAME: 'pagewire',
  KMS_KEY_ID: 'arn:aws:kms:us-east-1:000000000000:key/k',
  APP_SECRET_NAME: 'pagewire/app',
  BLOB_BUCKET: 'blobs',
  EVENT_BUS_NAME: 'Pagewire-pagewire',
};

function problemsOf(work: () => unknown): string[] {
  try {
    work();
  } catch (err) {
    expect(err).toBeInstanceOf(EnvError);
    return (err as EnvError).problems;
  }
  throw new Error('expected an EnvError');
}

describe('readEnv', () => {
  it('returns the typed settings: numbers as numbers, flags as booleans, unknown variables dropped', () => {
    const env = readEnv(ProcessorEnv, {
      ...processor,
      GRAPH_TIMEOUT_MS: '2500',
      LOCK_TTL_MS: '90000',
      LOCK_REDIS_URL: 'rediss://cache:6379',
      PATH: '/usr/bin',
    });
    expect(env).toEqual({
      ...processor,
      GRAPH_TIMEOUT_MS: 2500,
      LOCK_TTL_MS: 90000,
      LOCK_REDIS_URL: 'rediss://cache:6379',
    });
    const admin = readEnv(AdminEnv, {
      ...processor,
      PAGE_COMMANDS_QUEUE_URL: 'https://sqs/q.fifo',
      HUMAN_AGENT_REPLIES: 'true',
    });
    expect(admin.HUMAN_AGENT_REPLIES).toBe(true);
  });

  it('names every missing variable of each function', () => {
    expect(problemsOf(() => readEnv(VerifierEnv, {}))).toEqual([
      'EVENTS_QUEUE_URL is not set',
      'APP_SECRET_NAME is not set',
      'BLOB_BUCKET is not set',
    ]);
    expect(problemsOf(() => readEnv(PageCommandsEnv, { TABLE_NAME: 't' }))).toEqual([
      'KMS_KEY_ID is not set',
      'APP_SECRET_NAME is not set',
      'EVENT_BUS_NAME is not set',
    ]);
    expect(problemsOf(() => readEnv(OpsEnv, { ...processor }))).toEqual([
      'PAGE_COMMANDS_QUEUE_URL is not set',
    ]);
    expect(problemsOf(() => readEnv(AdminEnv, { ...processor, BLOB_BUCKET: undefined }))).toContain(
      'BLOB_BUCKET is not set',
    );
  });

  it('treats an empty or blank variable as not set', () => {
    expect(
      problemsOf(() =>
        readEnv(VerifierEnv, { EVENTS_QUEUE_URL: '  ', APP_SECRET_NAME: 'a', BLOB_BUCKET: 'b' }),
      ),
    ).toEqual(['EVENTS_QUEUE_URL is not set']);
    expect(readEnv(ProcessorEnv, { ...processor, GRAPH_TIMEOUT_MS: '' }).GRAPH_TIMEOUT_MS).toBeUndefined();
  });

  it('refuses malformed values, naming the variable', () => {
    const problems = problemsOf(() =>
      readEnv(ProcessorEnv, {
        ...processor,
        GRAPH_TIMEOUT_MS: '10s',
        PAGE_CACHE_TTL_MS: '0',
        GRAPH_API_URL: 'graph.facebook.com',
        GRAPH_API_VERSION: '24',
      }),
    );
    expect(problems).toEqual([
      'GRAPH_API_URL must be an http:// or https:// URL',
      'GRAPH_API_VERSION must look like v24.0',
      'GRAPH_TIMEOUT_MS must be a positive integer',
      'PAGE_CACHE_TTL_MS must be a positive integer',
    ]);
    expect(problemsOf(() => readEnv(LocalEnv, { MEMORY: 'yes' }))).toEqual(['MEMORY must be true or false']);
  });

  it('never shows a value: a bad LOCK_REDIS_URL keeps its password out of the error', () => {
    let message = '';
    try {
      readEnv(ProcessorEnv, { ...processor, LOCK_REDIS_URL: 'http://user:hunter2@cache:6379' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('environment: LOCK_REDIS_URL must be a redis:// or rediss:// URL (value not shown)');
    expect(message).not.toContain('hunter2');
  });
});

describe('config', () => {
  it('fills in the defaults', () => {
    expect(loadConfig({})).toMatchObject({
      tableName: 'pagewire',
      graphApiUrl: 'https://graph.facebook.com',
      graphApiVersion: 'v24.0',
      graphTimeoutMs: 10_000,
      humanAgentReplies: false,
      pageCacheTtlMs: 30_000,
      pageOpsConcurrency: 16,
      pageOpsFanOutAbove: 1_000,
      commandWaitMs: 10_000,
    });
  });

  it('reads a function environment the same as raw variables', () => {
    const raw = { ...processor, GRAPH_API_URL: 'http://127.0.0.1:9/', PAGE_CACHE_TTL_MS: '5' };
    const config = configOf(readEnv(ProcessorEnv, raw));
    expect(config).toEqual(loadConfig(raw));
    expect(config.graphApiUrl).toBe('http://127.0.0.1:9');
    expect(config.pageCacheTtlMs).toBe(5);
  });

  it('fails on a malformed tuning variable instead of silently using the default', () => {
    expect(() => loadConfig({ PAGE_OPS_CONCURRENCY: 'many' })).toThrow(
      'PAGE_OPS_CONCURRENCY must be a positive integer',
    );
  });
});
