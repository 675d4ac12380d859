// Bundles src/index.ts into dist/index.js, the file the runner executes (main and post steps).
// esbuild rather than @vercel/ncc: see README "Development" for why.
import { build } from 'esbuild';
import { writeFile, rm, mkdir } from 'node:fs/promises';

// `--outdir DIR` builds elsewhere (the dist check in the tests compares that with the committed dist/).
const flag = process.argv.indexOf('--outdir');
const outdir = flag > 0 ? (process.argv[flag + 1] ?? 'dist') : 'dist';
await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const result = await build({
  entryPoints: ['src/index.ts'],
  outfile: `${outdir}/index.js`,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  // CommonJS dependencies (ssh2, yaml, …) use require and __dirname; give the ESM bundle both.
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      'const require = __createRequire(import.meta.url);',
      'const __filename = import.meta.filename;',
      'const __dirname = import.meta.dirname;',
    ].join(' '),
  },
  // Optional native add-ons of ssh2: it falls back to pure JavaScript without them.
  external: ['cpu-features', '*.node'],
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
await writeFile(`${outdir}/package.json`, `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`${outdir}/index.js: ${(bytes / 1024 / 1024).toFixed(2)} MiB`);
