/**
 * The folders are the layers (README "Where things live"): these rules keep them so. Every import of
 * every tracked source file is read with the TypeScript scanner (static, type-only, `export … from`,
 * dynamic), resolved to a folder, and checked:
 *
 * - Lambda code (functions/) never reaches the local stack, the testkit, the tests or the bench.
 * - The domain folders never reach the composition root, the adapters, the Lambda entries, or an AWS
 *   service client: they see the outside world through ports only.
 * - The folders of functions/ import each other without cycles.
 * - The bench never imports the tests.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ENTRIES = ['admin', 'verifier', 'processor', 'ops', 'page-commands', 'connect', 'media-worker'].map(
  (f) => `functions/${f}`,
);
const DOMAIN = [
  'ingest',
  'media',
  'conversations',
  'events',
  'doctor',
  'connect-login',
  'contacts',
  'pages',
  'graph',
  'store',
  'contracts',
  'ports',
  'runtime',
].map((f) => `functions/${f}`);
/** AWS service clients belong in adapters/aws (DynamoDB's document client is the repositories' own). */
const AWS_CLIENTS = /^@aws-sdk\/client-(sqs|kms|s3|secrets-manager|eventbridge|lambda)$/;

/**
 * Imports that break a rule today, each with the package of issue 9 that removes it. The test fails on
 * any other violation, and on an entry here that no longer occurs (so the list only shrinks).
 */
const KNOWN: Record<string, string> = {};

interface Import {
  from: string;
  specifier: string;
  /** Repo-relative path of the target (folder-level precision is enough), or the package name. */
  target: string;
}

const aliases = JSON.parse(readFileSync('package.json', 'utf8')).imports as Record<string, string>;

function resolve(from: string, specifier: string): string {
  if (specifier.startsWith('#')) {
    const alias = Object.keys(aliases).find((key) => specifier.startsWith(key.replace('*', '')));
    if (!alias) return specifier;
    const folder = (aliases[alias] as string).replace('/*.js', '').replace(/^\.\//, '');
    return join(folder, specifier.slice(alias.length - 1));
  }
  if (specifier.startsWith('.')) return normalize(join(dirname(from), specifier));
  return specifier;
}

function imports(): Import[] {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => /\.(ts|mjs)$/.test(f) && !f.endsWith('.d.ts') && !f.startsWith('node_modules/'));
  return files.flatMap((from) => {
    let text: string;
    try {
      text = readFileSync(from, 'utf8');
    } catch {
      return []; // deleted in the working tree
    }
    return ts
      .preProcessFile(text, true, true)
      .importedFiles.map(({ fileName }) => ({ from, specifier: fileName, target: resolve(from, fileName) }));
  });
}

/** The functions/ folder a path is in (adapters count per kind: aws, local, redis). */
function folderOf(path: string): string | undefined {
  const parts = path.split('/');
  if (parts[0] !== 'functions' || parts.length < 3) return undefined;
  return parts[1] === 'adapters' ? parts.slice(0, 3).join('/') : parts.slice(0, 2).join('/');
}

const within = (path: string, folders: string[]) =>
  folders.some((f) => path === f || path.startsWith(`${f}/`));

function violations(all: Import[]): string[] {
  const found: string[] = [];
  for (const { from, specifier, target } of all) {
    const rule = (name: string) => found.push(`${name}: ${from} imports ${specifier}`);
    if (from.startsWith('functions/') && within(target, ['local', 'testkit', 'tests', 'bench'])) {
      rule('lambda code reaches a development folder');
    }
    if (within(from, DOMAIN)) {
      if (within(target, ['functions/app', 'functions/adapters', ...ENTRIES]))
        rule('domain reaches the edges');
      if (AWS_CLIENTS.test(target)) rule('domain uses an AWS service client');
    }
    if (from.startsWith('bench/') && target.startsWith('tests/')) rule('bench reaches the tests');
  }
  return found;
}

/** Every cycle of the folder graph of functions/, as "a → b → a". */
function folderCycles(all: Import[]): string[] {
  const edges = new Map<string, Set<string>>();
  for (const { from, target } of all) {
    const a = folderOf(from);
    const b = folderOf(target);
    if (!a || !b || a === b) continue;
    if (!edges.has(a)) edges.set(a, new Set());
    edges.get(a)?.add(b);
  }
  const cycles = new Set<string>();
  const visit = (node: string, path: string[]) => {
    for (const next of edges.get(node) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) {
        const loop = path.slice(at);
        const start = loop.indexOf([...loop].sort()[0] as string);
        const canonical = [...loop.slice(start), ...loop.slice(0, start)];
        cycles.add(`cycle: ${[...canonical, canonical[0]].join(' → ')}`);
      } else visit(next, [...path, next]);
    }
  };
  for (const node of edges.keys()) visit(node, [node]);
  return [...cycles].sort();
}

describe('architecture', () => {
  const all = imports();

  it('reads the imports of the whole tree', () => {
    expect(all.filter((i) => i.from.startsWith('functions/')).length).toBeGreaterThan(200);
    expect(all.some((i) => i.specifier.startsWith('#'))).toBe(true);
  });

  it('keeps every layer rule and has no folder cycle (beyond the known ones, each to be removed)', () => {
    const found = [...violations(all), ...folderCycles(all)];
    const unknown = found.filter((v) => !(v in KNOWN));
    const gone = Object.keys(KNOWN).filter((k) => !found.includes(k));
    expect({ unknown, gone }).toEqual({ unknown: [], gone: [] });
  });

  it('finds a violation when there is one (the checker itself)', () => {
    const planted: Import[] = [
      { from: 'functions/pages/x.ts', specifier: '#adapters/aws/kms', target: 'functions/adapters/aws/kms' },
      { from: 'functions/graph/y.ts', specifier: '@aws-sdk/client-sqs', target: '@aws-sdk/client-sqs' },
      { from: 'functions/ingest/z.ts', specifier: '#testkit/dynamo', target: 'testkit/dynamo' },
      { from: 'bench/b.ts', specifier: '../tests/x.js', target: 'tests/x.js' },
      { from: 'functions/graph/a.ts', specifier: '#pages/b', target: 'functions/pages/b' },
      { from: 'functions/pages/b.ts', specifier: '#graph/a', target: 'functions/graph/a' },
    ];
    expect(violations(planted)).toHaveLength(4);
    expect(folderCycles(planted)).toEqual(['cycle: functions/graph → functions/pages → functions/graph']);
  });
});
