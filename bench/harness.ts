// Shared parts of the serving benchmarks (bench:serve, bench:predlog): child servers started from
// the bundle, small API calls, and one measured load phase with the server's CPU time per request.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runLoad, type LoadResult } from './load-generator.js';

const ROOT = path.resolve(import.meta.dirname, '..');
export const MEASURE_MS = Number(process.env.BENCH_SECONDS ?? 3) * 1000;
export const WARMUP_MS = Number(process.env.BENCH_WARMUP_SECONDS ?? 1) * 1000;
export const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
export const TOKEN = 'bench-serve-admin-token-0123456789';

export interface Child {
  process: ChildProcess;
  url: string;
}

/** Starts a node child process and resolves once it prints `serving on URL`. */
export function startChild(args: string[], env: Record<string, string> = {}): Promise<Child> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /serving on (http:\/\/[^\s]+)/i.exec(out);
      if (match) resolve({ process: child, url: match[1]!.replace(/\/$/, '') });
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before serving: ${out}`)));
  });
}

export async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode !== null) return;
  const exited = new Promise((resolve) => child.process.once('exit', resolve));
  child.process.kill('SIGTERM');
  await exited;
}

/** The server bundle the benchmarks start: BENCH_BUNDLE (another build, to compare) or dist/plinth.mjs. */
export const SERVER_BUNDLE = process.env.BENCH_BUNDLE ?? 'dist/plinth.mjs';

/** BENCH_SERVER_PROFILE_DIR: where the servers write V8 CPU profiles (`--cpu-prof`), if set. */
const PROFILE_ARGS = process.env.BENCH_SERVER_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SERVER_PROFILE_DIR}`] : [];

export function startServer(dataDir: string, env: Record<string, string> = {}): Promise<Child> {
  return startChild([...PROFILE_ARGS, SERVER_BUNDLE, 'server', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { PLINTH_ADMIN_TOKEN: TOKEN, MALLOC_MMAP_THRESHOLD_: '131072', ...env });
}

export const auth = { authorization: `Bearer ${TOKEN}` };

export async function call(url: string, method: string, pathname: string, body?: unknown): Promise<unknown> {
  const response = await fetch(url + pathname, {
    method,
    headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${pathname}: HTTP ${response.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

export async function registerModel(url: string, name: string, bytes: Uint8Array): Promise<void> {
  const form = new FormData();
  form.set('artifact', new Blob([bytes]), `${name}.onnx`);
  const response = await fetch(`${url}/api/v1/models/${name}/versions`, { method: 'POST', headers: auth, body: form });
  if (response.status !== 201) throw new Error(`registering ${name}: HTTP ${response.status} ${await response.text()}`);
}

/** Turns dynamic batching on or off for a model (the engine's per-model serving config). */
export async function setBatching(url: string, name: string, enabled: boolean, runtime = 'auto'): Promise<void> {
  await call(url, 'PUT', `/api/v1/models/${name}/serving-config`, { runtime, batching: { enabled } });
}

/** Resident set size of a process, bytes (Linux /proc). */
export function residentBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

export interface Phase extends LoadResult {
  /** Cores the server process used during the measured window. */
  serverCpu: number;
  /** Server CPU time per completed request in the measured window, µs: robust to other load on the machine. */
  cpuPerRequest: number;
}

export async function measure(target: Child, pathname: string, body: string, concurrency: number): Promise<Phase> {
  const pid = target.process.pid!;
  let cpuStart = 0;
  let cpuEnd = 0;
  const result = await runLoad({
    url: target.url, method: 'POST', path: pathname, body, headers: auth, concurrency, warmupMs: WARMUP_MS, durationMs: MEASURE_MS,
    onWindow: (edge) => (edge === 'start' ? (cpuStart = cpuSeconds(pid)) : (cpuEnd = cpuSeconds(pid))),
  });
  const serverSeconds = cpuEnd - cpuStart;
  const failed = Object.values(result.errors).reduce((a, b) => a + b, 0);
  if (failed > 0) console.log(`    ! ${failed} responses were not 200: ${JSON.stringify(result.errors)}`);
  return { ...result, serverCpu: serverSeconds / (MEASURE_MS / 1000), cpuPerRequest: (serverSeconds / Math.max(1, result.requests)) * 1e6 };
}


/** The median of each figure over several rounds (each figure on its own). */
export function medianPhase(phases: Phase[]): Phase {
  const median = (pick: (p: Phase) => number) => {
    const sorted = phases.map(pick).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  };
  const errors: Record<string, number> = {};
  for (const p of phases) for (const [status, n] of Object.entries(p.errors)) errors[status] = (errors[status] ?? 0) + n;
  return {
    requests: median((p) => p.requests),
    errors,
    throughput: median((p) => p.throughput),
    p50: median((p) => p.p50),
    p99: median((p) => p.p99),
    generatorCpu: median((p) => p.generatorCpu),
    serverCpu: median((p) => p.serverCpu),
    cpuPerRequest: median((p) => p.cpuPerRequest),
  };
}
