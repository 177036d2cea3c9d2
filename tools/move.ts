/**
 * Issue 9 WP1: moves the files named in tools/moves.json with `git mv` (history kept), then rewrites
 * what pointed at them: import/export/dynamic-import/`vi.mock` specifiers, `new URL(…, import.meta.url)`
 * paths, repo-relative path mentions, and adds the package.json `imports` aliases.
 *
 *   npx tsx tools/move.ts              move, rewrite, then `biome check --write .` and `tsc --noEmit`
 *   npx tsx tools/move.ts --dry-run    print the plan and every problem, change nothing
 *   npx tsx tools/move.ts --skip-checks  move and rewrite, no biome/tsc
 *
 * Everything is checked before the first file moves: an unmapped file under a guarded folder, an import
 * that cannot be resolved, a `../` that would remain inside functions/ or a path string in code that
 * still names an old path all stop the run with a list. On an already-moved tree it says so and exits 0.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';

interface Split {
  /** The piece that receives the `git mv` (and so the history). */
  history: string;
  /** New file → the top-level names it takes. */
  names: Record<string, string[]>;
}

interface Moves {
  aliases: Record<string, string>;
  guard: string[];
  stays: string[];
  dirs: Record<string, string>;
  files: Record<string, string>;
  ifPresent: Record<string, string>;
  splits: Record<string, Split>;
  strings: Array<{ file: string; from: string; to: string }>;
  acknowledged: string[];
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

const CODE = /\.(ts|mts|cts|js|mjs|cjs)$/;
const DOCS = /\.md$/;
/** The tool's own folder is never rewritten (its README quotes old paths on purpose). */
const SKIP = /^(tools|node_modules)\//;

const args = new Set(process.argv.slice(2));
const dryRun = args.has('--dry-run');
const skipChecks = args.has('--skip-checks');

const ROOT = git(['rev-parse', '--show-toplevel']).trim();
process.chdir(ROOT);
const cfg = JSON.parse(readFileSync('tools/moves.json', 'utf8')) as Moves;
const problems: string[] = [];
const notes: string[] = [];

function git(argv: string[]): string {
  return execFileSync('git', argv, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function stop(title: string): never {
  console.error(`\n${title}\n${problems.map((p) => `  - ${p}`).join('\n')}\n\nNothing was changed.`);
  process.exit(1);
}

// ---- 1. The mapping ------------------------------------------------------------------------------

const tracked = git(['ls-files', '-z'])
  .split('\0')
  .filter((f) => f && existsSync(f))
  .sort();
const trackedSet = new Set(tracked);

function dirRule(file: string): string | undefined {
  const from = Object.keys(cfg.dirs)
    .filter((d) => file.startsWith(d))
    .sort((a, b) => b.length - a.length)[0];
  return from === undefined ? undefined : cfg.dirs[from] + file.slice(from.length);
}

/** old path → new path, for every tracked file that moves (a split source → its `history` piece). */
const moves = new Map<string, string>();
for (const f of tracked) {
  const to = cfg.files[f] ?? cfg.ifPresent[f] ?? cfg.splits[f]?.history ?? dirRule(f);
  if (to !== undefined && to !== f) moves.set(f, to);
}
const splitTargets = Object.values(cfg.splits).flatMap((s) => Object.keys(s.names));
const namedTargets = [...Object.values(cfg.files), ...splitTargets];

if (moves.size === 0) {
  const absent = namedTargets.filter((t) => !trackedSet.has(t));
  if (absent.length === 0) {
    console.log('Already moved: no file of tools/moves.json is at its old path. Nothing to do.');
    process.exit(0);
  }
  problems.push(...absent.map((t) => `${t}: neither the old nor the new file exists`));
  stop('This tree is neither before nor after the move:');
}

for (const f of [...Object.keys(cfg.files), ...Object.keys(cfg.splits)]) {
  if (!trackedSet.has(f)) {
    const to = cfg.files[f];
    problems.push(
      to && trackedSet.has(to)
        ? `${f} is already at ${to}: a half-moved tree (finish by hand or reset, then re-run)`
        : `${f} does not exist: fix moves.json (or list it under "ifPresent")`,
    );
  }
}
for (const f of Object.keys(cfg.ifPresent)) if (!trackedSet.has(f)) notes.push(`ifPresent, absent: ${f}`);
for (const f of cfg.stays) if (!trackedSet.has(f)) notes.push(`stays, absent: ${f}`);

const stays = new Set(cfg.stays);
for (const f of tracked) {
  if (cfg.guard.some((g) => f.startsWith(g)) && !moves.has(f) && !stays.has(f)) {
    problems.push(`${f}: not mapped (add it to "files", "dirs" or "ifPresent", or to "stays")`);
  }
}

const finalPaths = new Map<string, string>();
for (const [from, to] of moves) {
  const pieces = cfg.splits[from] ? Object.keys(cfg.splits[from].names) : [to];
  if (cfg.splits[from] && !pieces.includes(to))
    problems.push(`${from}: its history piece ${to} is not a piece`);
  for (const p of pieces) {
    if (finalPaths.has(p)) problems.push(`${p}: target of both ${finalPaths.get(p)} and ${from}`);
    finalPaths.set(p, from);
    if (trackedSet.has(p) && !moves.has(p)) problems.push(`${p}: target of ${from} already exists`);
    if (extOf(p) !== extOf(from)) problems.push(`${from} → ${p}: the extension changes`);
  }
}
const aliasDirs = Object.entries(cfg.aliases)
  .map(([alias, dir]) => ({ prefix: alias.replace(/\*$/, ''), dir: `${dir}/` }))
  .sort((a, b) => b.dir.length - a.dir.length);
for (const f of tracked) {
  const at = moves.get(f) ?? f;
  if (at.startsWith('functions/') && !stays.has(at) && !aliasDirs.some((a) => at.startsWith(a.dir))) {
    problems.push(`${f}: would end at ${at}, outside every functions/ folder with an alias`);
  }
}
if (problems.length) stop('The mapping does not cover this tree:');

function extOf(file: string): string {
  return /(\.d)?\.[a-z]+$/.exec(file)?.[0] ?? '';
}

const newPathOf = (old: string): string => moves.get(old) ?? old;
const isSplit = (old: string): boolean => cfg.splits[old] !== undefined;
const moved = (old: string): boolean => moves.has(old);

// ---- 2. Specifiers -------------------------------------------------------------------------------

/** A relative specifier, resolved the way NodeNext/tsx resolve it, to a tracked file (old tree). */
function resolveRelative(importer: string, spec: string): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(importer), spec));
  const stem = base.replace(/\.(js|mjs|cjs)$/, '');
  const candidates = /\.(js|mjs|cjs)$/.test(base)
    ? [base, `${stem}.ts`, `${stem}.tsx`, base.replace(/\.mjs$/, '.mts'), base.replace(/\.cjs$/, '.cts')]
    : /\.[a-z]+$/.test(base)
      ? [base]
      : [`${base}.ts`, `${base}.d.ts`, `${base}/index.ts`];
  return candidates.find((c) => trackedSet.has(c));
}

const isRelative = (spec: string): boolean => spec.startsWith('./') || spec.startsWith('../');

/** Same folder → `./x.js`; a folder with an alias → `#alias/x`; else a relative path (never `../` in functions/). */
function specifierFor(importer: string, target: string, original: string, where: string): string {
  const ext = /\.[a-z]+$/.exec(original.split('/').pop() ?? '')?.[0] ?? '';
  const stem = target.replace(/(\.d)?\.(ts|tsx|mts|cts|js|mjs|cjs)$/, '');
  const written = ext === '' ? stem : ext === '.js' && /\.tsx?$/.test(target) ? `${stem}.js` : target;
  const fromDir = posix.dirname(importer);
  if (posix.dirname(target) === fromDir) return `./${posix.basename(written)}`;
  const alias = aliasDirs.find((a) => target.startsWith(a.dir));
  if (alias && /\.ts$/.test(target) && !target.endsWith('.d.ts'))
    return alias.prefix + stem.slice(alias.dir.length);
  let rel = posix.relative(fromDir, written);
  if (!rel.startsWith('.')) rel = `./${rel}`;
  if (importer.startsWith('functions/') && rel.startsWith('../')) {
    problems.push(
      `${where}: '${original}' would become '${rel}' (add an alias for ${posix.dirname(target)})`,
    );
  }
  return rel;
}

interface Found {
  spec: string;
  /** Offset of the opening quote. */
  quote: number;
}

/** Static, type-only, `export … from`, dynamic `import()`, `typeof import()`, require: ts.preProcessFile. */
function preprocessed(text: string, where: string): Found[] {
  const found: Found[] = [];
  for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
    const quote = [ref.pos, ref.pos - 1].find(
      (q) =>
        /['"`]/.test(text[q] ?? '') &&
        text.startsWith(ref.fileName, q + 1) &&
        text[q + 1 + ref.fileName.length] === text[q],
    );
    if (quote === undefined) problems.push(`${where}: cannot locate the specifier '${ref.fileName}'`);
    else found.push({ spec: ref.fileName, quote });
  }
  return found;
}

const VI_CALLS = new Set(['mock', 'doMock', 'unmock', 'doUnmock', 'importActual', 'importMock']);

/** `vi.mock('…')` and friends: preProcessFile does not see them. */
function viSpecifiers(sf: ts.SourceFile): Found[] {
  const found: Found[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      ts.isIdentifier(node.expression.expression) &&
      node.expression.expression.text === 'vi' &&
      VI_CALLS.has(node.expression.name.text)
    ) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) found.push({ spec: arg.text, quote: arg.getStart(sf) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

function scriptKind(file: string): ts.ScriptKind {
  return /\.(m|c)?js$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
}

/** The import/export declarations of a split file, cut into one declaration per piece. */
function splitDeclaration(
  sf: ts.SourceFile,
  stmt: ts.ImportDeclaration | ts.ExportDeclaration,
  source: string,
  importerNew: string,
  where: string,
): Edit | undefined {
  const owner = ownersOf(source);
  const fail = (why: string): undefined => {
    problems.push(`${where}: ${why} of the split file ${source}; write it as named imports first`);
    return undefined;
  };
  const specFor = (piece: string): string => specifierFor(importerNew, piece, './x.js', where);
  const groups = new Map<string, string[]>();
  const add = (exported: string, text: string): void => {
    const piece = owner.get(exported);
    if (!piece) {
      problems.push(`${where}: imports '${exported}' from ${source}, which no piece of the split claims`);
      return;
    }
    groups.set(piece, [...(groups.get(piece) ?? []), text]);
  };
  let keyword: string;
  if (ts.isImportDeclaration(stmt)) {
    const clause = stmt.importClause;
    if (!clause) return fail('a side-effect import');
    if (clause.name || (clause.namedBindings && !ts.isNamedImports(clause.namedBindings))) {
      return fail('a default or namespace import');
    }
    for (const el of (clause.namedBindings as ts.NamedImports | undefined)?.elements ?? []) {
      add((el.propertyName ?? el.name).text, el.getText(sf));
    }
    keyword = clause.isTypeOnly ? 'import type' : 'import';
  } else {
    keyword = stmt.isTypeOnly ? 'export type' : 'export';
    if (!stmt.exportClause) {
      const pieces = [...new Set(owner.values())].sort();
      const text = pieces.map((p) => `${keyword} * from '${specFor(p)}';`).join('\n');
      return { start: stmt.getStart(sf), end: stmt.getEnd(), text };
    }
    if (!ts.isNamedExports(stmt.exportClause)) return fail('`export * as`');
    for (const el of stmt.exportClause.elements) add((el.propertyName ?? el.name).text, el.getText(sf));
  }
  const text = [...groups]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([piece, names]) => `${keyword} { ${names.join(', ')} } from '${specFor(piece)}';`)
    .join('\n');
  return { start: stmt.getStart(sf), end: stmt.getEnd(), text };
}

function ownersOf(source: string): Map<string, string> {
  const owner = new Map<string, string>();
  for (const [piece, names] of Object.entries(cfg.splits[source].names)) {
    for (const n of names) {
      if (owner.has(n)) problems.push(`moves.json: ${source} gives ${n} to two pieces`);
      owner.set(n, piece);
    }
  }
  return owner;
}

// ---- 3. Path strings that are not imports --------------------------------------------------------

function isImportMetaUrl(node: ts.Node): boolean {
  return (
    ts.isPropertyAccessExpression(node) &&
    ts.isMetaProperty(node.expression) &&
    node.expression.keywordToken === ts.SyntaxKind.ImportKeyword &&
    node.name.text === 'url'
  );
}

/** `new URL('../..', import.meta.url)`: the same place, seen from the file's new folder. */
function urlEdits(sf: ts.SourceFile, file: string, where: string): Edit[] {
  const edits: Edit[] = [];
  const handled = new Set<ts.Node>();
  const visit = (node: ts.Node): void => {
    if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'URL' &&
      node.arguments?.length === 2 &&
      ts.isStringLiteralLike(node.arguments[0]) &&
      isImportMetaUrl(node.arguments[1])
    ) {
      handled.add(node.arguments[1]);
      const lit = node.arguments[0];
      const next = movedUrl(file, lit.text, where);
      if (next !== undefined && next !== lit.text) {
        edits.push({ start: lit.getStart(sf) + 1, end: lit.getEnd() - 1, text: next });
      }
    } else if (
      ts.isMetaProperty(node) &&
      moved(file) &&
      ![...handled].some((h) => h.pos <= node.pos && node.end <= h.end)
    ) {
      const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      const key = `${newPathOf(file)}:${line}: import.meta`;
      if (!cfg.acknowledged.includes(key)) {
        problems.push(
          `${key}: a moved file uses import.meta other than new URL('…', import.meta.url); check it, then add "${key}" to "acknowledged"`,
        );
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edits;
}

function movedUrl(file: string, lit: string, where: string): string | undefined {
  if (!lit.startsWith('.')) return undefined;
  const trailing = lit.endsWith('/') && lit !== '/';
  const target = posix.normalize(posix.join(posix.dirname(file), lit)).replace(/\/$/, '');
  if (target.startsWith('..')) {
    problems.push(`${where}: new URL('${lit}') leaves the repository`);
    return undefined;
  }
  if (!moved(file) && !moved(target)) return undefined;
  if (isSplit(target)) {
    problems.push(`${where}: new URL('${lit}') names the split file ${target}`);
    return undefined;
  }
  const isDir = target === '.' || (existsSync(target) && statSync(target).isDirectory());
  if (isDir && target !== '.') {
    problems.push(`${where}: new URL('${lit}') names the folder ${target}; point it at a file or the root`);
    return undefined;
  }
  let rel = posix.relative(posix.dirname(newPathOf(file)), newPathOf(target)) || '.';
  if (lit.startsWith('./') && !rel.startsWith('.')) rel = `./${rel}`;
  return trailing ? `${rel}/` : rel;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A repo-relative path as a whole word: not the tail of a longer path, not a prefix of a longer name. */
const pathPattern = (p: string, flags = 'g'): RegExp =>
  new RegExp(`(?<![\\w./#@-])${escapeRegExp(p)}(?![\\w-]|\\.\\w)`, flags);

/** Exact repo-relative mentions of moved files (`functions/commons/http.ts`), in code and docs alike. */
function rewriteMentions(text: string): string {
  let out = text;
  for (const [from, to] of [...moves].sort(([a], [b]) => b.length - a.length)) {
    if (!isSplit(from)) out = out.replace(pathPattern(from), to);
  }
  return out;
}

function applyEdits(text: string, edits: Edit[], where: string): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start);
  let out = text;
  let limit = Number.POSITIVE_INFINITY;
  for (const e of sorted) {
    if (e.end > limit) problems.push(`${where}: overlapping rewrites at offset ${e.start}`);
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
    limit = e.start;
  }
  return out;
}

function rewriteCode(file: string, text: string): string {
  const where = file;
  const importer = newPathOf(file);
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKind(file));
  const edits: Edit[] = [];
  const splitQuotes = new Set<number>();
  for (const stmt of sf.statements) {
    if ((ts.isImportDeclaration(stmt) || ts.isExportDeclaration(stmt)) && stmt.moduleSpecifier) {
      const spec = (stmt.moduleSpecifier as ts.StringLiteral).text;
      const target = isRelative(spec) ? resolveRelative(file, spec) : undefined;
      if (target && isSplit(target)) {
        splitQuotes.add(stmt.moduleSpecifier.getStart(sf));
        const edit = splitDeclaration(sf, stmt, target, importer, where);
        if (edit) edits.push(edit);
      }
    }
  }
  const seen = new Set<number>();
  for (const { spec, quote } of [...preprocessed(text, where), ...viSpecifiers(sf)]) {
    if (seen.has(quote) || splitQuotes.has(quote) || !isRelative(spec)) continue;
    seen.add(quote);
    const target = resolveRelative(file, spec);
    if (!target) {
      problems.push(`${where}: cannot resolve '${spec}' to a tracked file`);
      continue;
    }
    if (isSplit(target)) {
      problems.push(
        `${where}: '${spec}' reaches the split file ${target} (dynamic import or vi.mock): not supported`,
      );
      continue;
    }
    const next = specifierFor(importer, newPathOf(target), spec, where);
    if (next !== spec) edits.push({ start: quote + 1, end: quote + 1 + spec.length, text: next });
  }
  edits.push(...urlEdits(sf, file, where));
  return rewriteMentions(applyEdits(text, edits, where));
}

// ---- 4. Splits -----------------------------------------------------------------------------------

function declaredNames(stmt: ts.Statement): string[] {
  if (ts.isVariableStatement(stmt)) {
    return stmt.declarationList.declarations.flatMap((d) => (ts.isIdentifier(d.name) ? [d.name.text] : []));
  }
  const named = stmt as ts.Statement & { name?: ts.Identifier };
  return named.name && ts.isIdentifier(named.name) ? [named.name.text] : [];
}

/** Identifiers a statement refers to (property names excluded). */
function referencedNames(node: ts.Node, into = new Set<string>()): Set<string> {
  const parent = node.parent;
  const isPropertyName =
    parent &&
    (ts.isPropertySignature(parent) ||
      ts.isPropertyDeclaration(parent) ||
      ts.isPropertyAssignment(parent) ||
      ts.isMethodSignature(parent) ||
      ts.isPropertyAccessExpression(parent)) &&
    (parent as ts.NamedDeclaration).name === node;
  if (ts.isIdentifier(node) && !isPropertyName) into.add(node.text);
  ts.forEachChild(node, (child) => {
    referencedNames(child, into);
  });
  return into;
}

function splitPieces(source: string, text: string): Map<string, string> {
  const sf = ts.createSourceFile(source, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const owner = ownersOf(source);
  const chunks = new Map<string, ts.Statement[]>();
  const imports: ts.ImportDeclaration[] = [];
  const declaredIn = new Map<string, { piece: string; typeOnly: boolean }>();
  for (const stmt of sf.statements) {
    if (ts.isImportDeclaration(stmt)) {
      imports.push(stmt);
      continue;
    }
    const names = declaredNames(stmt);
    const pieces = new Set(names.map((n) => owner.get(n)));
    const piece = [...pieces][0];
    if (names.length === 0 || pieces.size !== 1 || piece === undefined) {
      problems.push(
        `${source}: top-level ${names.length ? `'${names.join("', '")}'` : `'${stmt.getText(sf).slice(0, 40)}'`} ` +
          'is not given to exactly one piece in moves.json "splits"',
      );
      continue;
    }
    chunks.set(piece, [...(chunks.get(piece) ?? []), stmt]);
    const typeOnly = ts.isInterfaceDeclaration(stmt) || ts.isTypeAliasDeclaration(stmt);
    for (const n of names) declaredIn.set(n, { piece, typeOnly });
  }
  for (const n of owner.keys())
    if (!declaredIn.has(n)) notes.push(`${source}: splits names ${n}, not declared`);
  const out = new Map<string, string>();
  for (const piece of Object.keys(cfg.splits[source].names)) {
    const stmts = chunks.get(piece) ?? [];
    if (stmts.length === 0) problems.push(`${source}: the piece ${piece} would be empty`);
    const used = new Set<string>();
    for (const s of stmts) referencedNames(s, used);
    const head: string[] = [];
    for (const imp of imports) head.push(...filteredImport(sf, imp, used, source, piece));
    const fromPieces = new Map<string, { types: string[]; values: string[] }>();
    for (const n of [...used].sort()) {
      const d = declaredIn.get(n);
      if (!d || d.piece === piece) continue;
      const entry = fromPieces.get(d.piece) ?? { types: [], values: [] };
      (d.typeOnly ? entry.types : entry.values).push(n);
      fromPieces.set(d.piece, entry);
    }
    for (const [other, { types, values }] of [...fromPieces].sort(([a], [b]) => a.localeCompare(b))) {
      const spec = specifierFor(piece, other, './x.js', piece);
      const names = [...values, ...types.map((t) => (values.length ? `type ${t}` : t))];
      head.push(`import ${values.length ? '' : 'type '}{ ${names.join(', ')} } from '${spec}';`);
    }
    const body = stmts
      .map((s) => text.slice(s.getFullStart(), s.getEnd()))
      .join('')
      .replace(/^\s+/, '');
    out.set(piece, `${head.length ? `${head.join('\n')}\n\n` : ''}${body}\n`);
  }
  return out;
}

/** An import of the split file, kept for a piece with only the bindings the piece uses. */
function filteredImport(
  sf: ts.SourceFile,
  imp: ts.ImportDeclaration,
  used: Set<string>,
  source: string,
  piece: string,
): string[] {
  const spec = (imp.moduleSpecifier as ts.StringLiteral).text;
  let written = spec;
  if (isRelative(spec)) {
    const target = resolveRelative(source, spec);
    if (!target) problems.push(`${source}: cannot resolve '${spec}'`);
    else written = specifierFor(piece, newPathOf(target), spec, piece);
  }
  const clause = imp.importClause;
  if (!clause) return [`import '${written}';`];
  const parts: string[] = [];
  if (clause.name && used.has(clause.name.text)) parts.push(clause.name.text);
  const bindings = clause.namedBindings;
  if (bindings && ts.isNamespaceImport(bindings) && used.has(bindings.name.text))
    parts.push(bindings.getText(sf));
  if (bindings && ts.isNamedImports(bindings)) {
    const kept = bindings.elements.filter((el) => used.has(el.name.text)).map((el) => el.getText(sf));
    if (kept.length) parts.push(`{ ${kept.join(', ')} }`);
  }
  return parts.length
    ? [`import ${clause.isTypeOnly ? 'type ' : ''}${parts.join(', ')} from '${written}';`]
    : [];
}

// ---- 5. Leftovers --------------------------------------------------------------------------------

/** Where string literals are: a hit inside one is code (it must be handled), elsewhere a comment. */
function literalRanges(file: string, text: string): Array<[number, number]> {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKind(file));
  const ranges: Array<[number, number]> = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isStringLiteralLike(node) ||
      ts.isTemplateLiteralToken(node) ||
      ts.isRegularExpressionLiteral(node)
    ) {
      ranges.push([node.getStart(sf), node.getEnd()]);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return ranges;
}

/** Old paths (without extension) and vanished folders that may still be named somewhere. */
function leftoverNeedles(): string[] {
  const needles = new Set<string>();
  for (const from of moves.keys()) needles.add(from.replace(/(\.d)?\.[a-z]+$/, ''));
  const before = new Set(tracked.flatMap((f) => ancestors(f)));
  const after = new Set(
    tracked.flatMap((f) => (isSplit(f) ? splitTargetsOf(f) : [newPathOf(f)]).flatMap(ancestors)),
  );
  for (const d of before) if (!after.has(d)) needles.add(d);
  // `local/dynalite.d.ts` moves away, but `local/dynalite` is also a new name: not a leftover.
  const finals = tracked.flatMap((f) => (isSplit(f) ? splitTargetsOf(f) : [newPathOf(f)]));
  return [...needles]
    .filter((n) => !finals.some((f) => f.startsWith(`${n}.`) || f.startsWith(`${n}/`)))
    .sort((a, b) => b.length - a.length);
}

function splitTargetsOf(source: string): string[] {
  return Object.keys(cfg.splits[source].names);
}

function ancestors(file: string): string[] {
  const out: string[] = [];
  for (let d = posix.dirname(file); d !== '.'; d = posix.dirname(d)) out.push(d);
  return out;
}

function scanLeftovers(path: string, text: string, needles: string[], checklist: string[]): void {
  const ranges = CODE.test(path) ? literalRanges(path, text) : [];
  const lines = text.split('\n');
  const covered = new Set<number>();
  for (const needle of needles) {
    for (const m of text.matchAll(pathPattern(needle))) {
      const at = m.index ?? 0;
      if (covered.has(at)) continue; // a longer needle already reported this place
      covered.add(at);
      const line = text.slice(0, at).split('\n').length;
      const inCode = ranges.some(([s, e]) => s <= at && at < e);
      const key = `${path}: ${needle}`;
      const where = `${path}:${line}: ${lines[line - 1].trim().slice(0, 110)}`;
      if (!inCode) checklist.push(where);
      else if (!cfg.acknowledged.includes(key)) {
        problems.push(
          `${where}\n      a string in code still names '${needle}': add a "strings" rewrite, or "${key}" to "acknowledged"`,
        );
      }
    }
  }
  // `table-schema.ts` alone in a comment: the reader is sent to a name that no longer exists.
  for (const [name, now] of renamedNames) {
    for (const m of text.matchAll(pathPattern(name))) {
      const at = m.index ?? 0;
      if (ranges.some(([s, e]) => s <= at && at < e)) continue;
      const line = text.slice(0, at).split('\n').length;
      checklist.push(`${path}:${line}: ${lines[line - 1].trim().slice(0, 90)}  [${name} is now ${now}]`);
    }
  }
}

/** Old file names (`table-schema.ts`) whose name changed, with where they went. */
const renamedNames: Array<[string, string]> = [...moves]
  .filter(([from, to]) => posix.basename(from) !== posix.basename(to) || isSplit(from))
  .map(([from, to]): [string, string] => [
    posix.basename(from),
    isSplit(from) ? splitTargetsOf(from).join(' + ') : to,
  ])
  .sort(([a], [b]) => a.localeCompare(b));

// ---- 6. Plan, then do ----------------------------------------------------------------------------

const contents = new Map<string, string>(); // new path → new text (only files whose text changes)
const originals = new Map<string, string>();
for (const f of tracked) {
  if (SKIP.test(f) || !(CODE.test(f) || DOCS.test(f))) continue;
  const text = readFileSync(f, 'utf8');
  originals.set(f, text);
  if (isSplit(f)) {
    for (const [piece, body] of splitPieces(f, text)) contents.set(piece, body);
    continue;
  }
  const next = CODE.test(f) ? rewriteCode(f, text) : rewriteMentions(text);
  if (next !== text || moved(f)) contents.set(newPathOf(f), next);
}
for (const s of cfg.strings) {
  const text = contents.get(s.file) ?? originals.get(finalPaths.get(s.file) ?? s.file);
  const count = text?.split(s.from).length ?? 0;
  if (text === undefined || count !== 2) {
    problems.push(
      `strings: '${s.from}' occurs ${Math.max(count - 1, 0)} times in ${s.file} (new path), expected once`,
    );
  } else contents.set(s.file, text.replace(s.from, s.to));
}
// A rewrite must not break the syntax (a "strings" entry that writes `*/` into a comment, say).
for (const [path, text] of contents) {
  if (!CODE.test(path)) continue;
  const before = originals.get(finalPaths.get(path) ?? path);
  if (syntaxErrors(path, text) > (before === undefined ? 0 : syntaxErrors(path, before))) {
    problems.push(`${path}: the rewritten text no longer parses (check "strings" and the splits)`);
  }
}
function syntaxErrors(path: string, text: string): number {
  const { diagnostics } = ts.transpileModule(text, {
    fileName: path.replace(/\.d\.ts$/, '.ts'), // transpileModule emits nothing for a .d.ts
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  return diagnostics?.length ?? 0;
}

const needles = leftoverNeedles();
const checklist: string[] = [];
for (const f of tracked) {
  if (SKIP.test(f) || !(CODE.test(f) || DOCS.test(f))) continue;
  for (const p of isSplit(f) ? splitTargetsOf(f) : [newPathOf(f)]) {
    scanLeftovers(p, contents.get(p) ?? originals.get(f) ?? '', needles, checklist);
  }
}

const byDir = (a: [string, string], b: [string, string]): number => a[0].localeCompare(b[0]);
console.log(`Moves (${moves.size}):`);
for (const [from, to] of [...moves].sort(byDir)) {
  const pieces = isSplit(from) ? ` (split: ${splitTargetsOf(from).join(', ')})` : '';
  console.log(`  ${from} → ${to}${pieces}`);
}
const rewritten = [...contents.keys()].filter((p) => {
  const old = finalPaths.get(p) ?? p;
  return contents.get(p) !== originals.get(old);
});
console.log(`Files rewritten: ${rewritten.length}`);
for (const n of notes) console.log(`  note: ${n}`);
if (checklist.length) {
  console.log(`\nChecklist (old paths in comments and docs, left as they are; fix by hand if they matter):`);
  for (const c of checklist) console.log(`  ${c}`);
}
if (problems.length) stop('Problems:');
if (dryRun) {
  console.log('\nDry run: nothing changed.');
  process.exit(0);
}
const dirty = git(['status', '--porcelain']).trim();
if (dirty) {
  problems.push(`the worktree is not clean (commit or stash first):\n${dirty}`);
  stop('Refusing to move:');
}

for (const [from, to] of [...moves].sort(byDir)) {
  mkdirSync(posix.dirname(to), { recursive: true });
  git(['mv', from, to]);
}
for (const [path, text] of contents) writeFileSync(path, text);
const newPieces = splitTargets.filter((p) => !moves.has(p) && ![...moves.values()].includes(p));
if (newPieces.length) git(['add', '--', ...newPieces]);
for (const from of moves.keys()) removeEmptyDirs(posix.dirname(from));

writeAliases();
addTestkitToTsconfig();
console.log(`\nMoved ${moves.size} files and rewrote ${rewritten.length}.`);

function removeEmptyDirs(dir: string): void {
  for (let d = dir; d !== '.' && existsSync(d) && readdirSync(d).length === 0; d = posix.dirname(d))
    rmdirSync(d);
}

function writeAliases(): void {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as Record<string, unknown>;
  const imports = Object.fromEntries(
    Object.entries(cfg.aliases).map(([alias, dir]) => [alias, `./${dir}/*.js`]),
  );
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(pkg)) {
    if (k === 'imports') continue;
    out[k] = v;
    if (k === 'bin') out.imports = imports;
  }
  out.imports ??= imports;
  writeFileSync('package.json', `${JSON.stringify(out, null, 2)}\n`);
}

function addTestkitToTsconfig(): void {
  if (!existsSync('testkit')) return;
  const text = readFileSync('tsconfig.json', 'utf8');
  const m = /"include"\s*:\s*\[([^\]]*)\]/.exec(text);
  if (!m) {
    console.error('tsconfig.json: no "include" array; add "testkit" by hand');
    process.exitCode = 1;
    return;
  }
  const include = JSON.parse(`[${m[1]}]`) as string[];
  if (include.includes('testkit')) return;
  include.splice(include.includes('tests') ? include.indexOf('tests') + 1 : include.length, 0, 'testkit');
  const next = `"include": [${include.map((i) => JSON.stringify(i)).join(', ')}]`;
  writeFileSync('tsconfig.json', text.replace(m[0], next));
}

if (!skipChecks) {
  for (const argv of [
    ['biome', 'check', '--write', '.'],
    ['tsc', '--noEmit'],
  ]) {
    console.log(`\n$ npx ${argv.join(' ')}`);
    const run = spawnSync(join(ROOT, 'node_modules', '.bin', argv[0]), argv.slice(1), { stdio: 'inherit' });
    if (run.status !== 0) {
      console.error(`npx ${argv.join(' ')} failed: fix moves.json or the tool, reset the tree, and re-run.`);
      process.exit(1);
    }
  }
}
console.log('\nDone. Review with `git status`, then `git add -A && git commit`.');
