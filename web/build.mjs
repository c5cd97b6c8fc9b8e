// build.mjs bundles the browser UI into dist/ with esbuild, the only build tool:
//
//   dist/index.html                      the page for / and /review/{id}
//   dist/assets/app-HASH.js, .css, ...   content-hashed, so the server may cache them forever
//   *.gz                                 gzip copies the server sends to browsers that accept them
//
// Run it with `node build.mjs` after `npm ci`; it prints the gzipped size of the bundle.
// `node build.mjs --watch` rebuilds on every change, for development with `tesuji serve --web-dir`.
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
const watch = process.argv.includes('--watch');

const options = {
  absWorkingDir: root,
  entryPoints: { app: 'src/main.jsx' },
  bundle: true,
  format: 'esm',
  target: 'es2020',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  publicPath: '/assets',
  loader: { '.svg': 'dataurl', '.png': 'file' },
  metafile: true,
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
  plugins: [{ name: 'page', setup: (b) => b.onEnd((r) => r.errors.length === 0 && writePage(r.metafile)) }],
};

// writePage writes index.html with the hashed names of this build, gzips what a browser
// downloads, and reports the sizes.
function writePage(metafile) {
  const outputs = Object.keys(metafile.outputs).map((p) => basename(p));
  const js = outputs.find((f) => /^app-.*\.js$/.test(f));
  const css = outputs.find((f) => /^app-.*\.css$/.test(f));
  const page = readFileSync(join(root, 'src/index.html'), 'utf8')
    .replace('{{css}}', `/assets/${css}`)
    .replace('{{js}}', `/assets/${js}`);
  writeFileSync(join(dist, 'index.html'), page);
  // Files of earlier watch builds would pile up; keep only this build's.
  for (const f of readdirSync(join(dist, 'assets'))) {
    if (!outputs.includes(f.replace(/\.gz$/, ''))) rmSync(join(dist, 'assets', f));
  }
  const sizes = {};
  for (const f of ['index.html', ...outputs.map((o) => `assets/${o}`)]) {
    const data = readFileSync(join(dist, f));
    if (/\.(js|css|html|svg)$/.test(f)) {
      const gz = gzipSync(data, { level: 9 });
      writeFileSync(join(dist, `${f}.gz`), gz);
      sizes[f] = { bytes: data.length, gzip: gz.length };
    } else {
      sizes[f] = { bytes: statSync(join(dist, f)).size };
    }
  }
  writeFileSync(join(dist, 'sizes.json'), JSON.stringify(sizes, null, 2) + '\n');
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`web: built dist/ — JS ${kb(sizes[`assets/${js}`].bytes)} (${kb(sizes[`assets/${js}`].gzip)} gzip), CSS ${kb(sizes[`assets/${css}`].bytes)} (${kb(sizes[`assets/${css}`].gzip)} gzip)`);
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log('web: watching src/ for changes');
} else {
  await esbuild.build(options);
}
