// Writes schema/inventory.schema.json from the zod inventory schema (src/core/inventory-schema.ts).
//   node scripts/gen-schema.ts           rewrite the file
//   node scripts/gen-schema.ts --check   exit 1 when the committed file is out of date
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inventoryJsonSchema } from '../src/core/inventory-schema.ts';

export const SCHEMA_PATH = fileURLToPath(new URL('../schema/inventory.schema.json', import.meta.url));

export function renderSchema(): string {
  return `${JSON.stringify(inventoryJsonSchema, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const wanted = renderSchema();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(SCHEMA_PATH, 'utf8');
    } catch {
      // missing counts as out of date
    }
    if (current !== wanted) {
      console.error(`${SCHEMA_PATH} is out of date: run node scripts/gen-schema.ts`);
      process.exit(1);
    }
    console.log(`${SCHEMA_PATH} is up to date`);
  } else {
    writeFileSync(SCHEMA_PATH, wanted);
    console.log(`wrote ${SCHEMA_PATH}`);
  }
}
