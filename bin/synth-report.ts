/**
 * After `cdk synth`: prints each stack's template size and each function's bundle size from cdk.out
 * (or the directory given as the first argument).
 */
import { formatBytes, readAssemblyReport } from '../lib/assembly-report.js';

const outdir = process.argv[2] ?? 'cdk.out';
const reports = readAssemblyReport(outdir);
if (reports.length === 0) {
  console.error(`synth-report: no stack in ${outdir}`);
  process.exit(1);
}
for (const report of reports) {
  console.log(
    `${report.stackName}: template ${formatBytes(report.templateBytes)} (${report.resourceCount} resources, CloudFormation allows 1 MiB)`,
  );
  const width = Math.max(...report.bundles.map((b) => b.name.length), 8);
  console.log(`  ${'function'.padEnd(width)}  runtime      code        files`);
  for (const bundle of report.bundles) {
    const files = Object.entries(bundle.files)
      .map(([file, size]) => `${file} ${formatBytes(size)}`)
      .join(', ');
    console.log(
      `  ${bundle.name.padEnd(width)}  ${bundle.runtime.padEnd(11)}  ${formatBytes(bundle.codeBytes).padStart(10)}  ${files}`,
    );
  }
}
