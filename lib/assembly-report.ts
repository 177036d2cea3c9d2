/**
 * Sizes read back from a synthesized cloud assembly (cdk.out): each stack's template, and each Lambda
 * function's bundle (the asset directory its S3 key names). Used by `npm run synth` and the CDK tests.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface BundleSize {
  /** Construct path below the stack, e.g. `Ingest/Verifier`. */
  name: string;
  runtime: string;
  /** Every file of the bundle, e.g. index.mjs and index.mjs.map, in bytes. */
  files: Record<string, number>;
  /** The code Lambda loads (the .mjs/.js files), in bytes. */
  codeBytes: number;
}

export interface StackReport {
  stackName: string;
  templateFile: string;
  templateBytes: number;
  resourceCount: number;
  bundles: BundleSize[];
}

type MetadataEntries = Record<string, { type: string; data?: unknown }[]>;

interface Manifest {
  artifacts?: Record<
    string,
    {
      type: string;
      properties?: { templateFile?: string };
      metadata?: MetadataEntries;
      additionalMetadataFile?: string;
    }
  >;
}

interface TemplateResource {
  Type: string;
  Properties?: { Code?: { S3Key?: unknown }; Runtime?: string };
  Metadata?: Record<string, unknown>;
}

export function readAssemblyReport(outdir: string): StackReport[] {
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as Manifest;
  const reports: StackReport[] = [];
  for (const [stackName, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const templateFile = join(outdir, artifact.properties.templateFile);
    const text = readFileSync(templateFile, 'utf8');
    const template = JSON.parse(text) as { Resources?: Record<string, TemplateResource> };
    const resources = Object.entries(template.Resources ?? {});
    const paths = constructPaths(outdir, artifact.metadata, artifact.additionalMetadataFile);
    const bundles: BundleSize[] = [];
    for (const [logicalId, resource] of resources) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const key = resource.Properties?.Code?.S3Key;
      if (typeof key !== 'string' || !key.endsWith('.zip')) continue;
      const dir = join(outdir, `asset.${key.slice(0, -'.zip'.length)}`);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
      const files: Record<string, number> = {};
      for (const file of readdirSync(dir)) files[file] = statSync(join(dir, file)).size;
      const path = paths.get(logicalId) ?? resource.Metadata?.['aws:cdk:path'];
      const name =
        typeof path === 'string'
          ? path
              .replace(/^\//, '')
              .replace(`${stackName}/`, '')
              .replace(/\/(Function\/)?Resource$/, '')
          : logicalId;
      bundles.push({
        name,
        runtime: resource.Properties?.Runtime ?? '?',
        files,
        codeBytes: Object.entries(files)
          .filter(([file]) => /\.(m?js|cjs)$/.test(file))
          .reduce((sum, [, size]) => sum + size, 0),
      });
    }
    reports.push({
      stackName,
      templateFile,
      templateBytes: Buffer.byteLength(text),
      resourceCount: resources.length,
      bundles,
    });
  }
  return reports;
}

/** Logical id → construct path, from the stack's metadata (in the manifest or its own file). */
function constructPaths(outdir: string, inline?: MetadataEntries, file?: string): Map<string, string> {
  const metadata: MetadataEntries = {
    ...(inline ?? {}),
    ...(file && existsSync(join(outdir, file))
      ? (JSON.parse(readFileSync(join(outdir, file), 'utf8')) as MetadataEntries)
      : {}),
  };
  const paths = new Map<string, string>();
  for (const [path, entries] of Object.entries(metadata)) {
    for (const entry of entries) {
      if (entry.type === 'aws:cdk:logicalId' && typeof entry.data === 'string') paths.set(entry.data, path);
    }
  }
  return paths;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}
