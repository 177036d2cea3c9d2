/**
 * Writes the JSON Schemas generated from the code's zod contracts into docs/ (`npm run schemas`).
 * tests/unit/public-event.test.ts fails when a committed file differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { publicEventJsonSchema } from '#contracts/public-event';

const SCHEMA_FILES = [
  { path: new URL('../docs/public-event.schema.json', import.meta.url), schema: publicEventJsonSchema },
];

for (const { path, schema } of SCHEMA_FILES) {
  writeFileSync(path, `${JSON.stringify(schema(), null, 2)}\n`);
  console.log(`wrote ${path.pathname}`);
}
