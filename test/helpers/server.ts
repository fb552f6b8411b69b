// Starts a real Plinth server on an ephemeral port over a fresh store (SQLite in a temp folder, or
// a fresh PostgreSQL database), and a small fetch wrapper for tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadServerConfig } from '../../src/core/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { createPostgresDatabase } from './postgres.js';

export type Backend = 'sqlite' | 'postgres';
export const BACKENDS: Backend[] = ['sqlite', 'postgres'];

export interface TestServer {
  url: string;
  adminToken: string;
  server: RunningServer;
  dataDir: string;
  backend: Backend;
  /** The PostgreSQL database's URL; undefined on SQLite. */
  databaseUrl: string | undefined;
  /** fetch against the server; `token` defaults to the admin token, null sends none. */
  request(method: string, pathname: string, options?: { token?: string | null; json?: unknown; body?: RequestInit['body']; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: any; text: string }>;
  /** Creates a token with the given role and returns its secret. */
  tokenWithRole(role: 'admin' | 'editor' | 'predictor' | 'viewer'): Promise<string>;
  /** Registers an ONNX file as a new version of `name` (with optional metadata); throws unless 201. */
  registerModel(name: string, bytes: Uint8Array, metadata?: unknown): Promise<{ version: number }>;
  close(): Promise<void>;
}

let tokenCounter = 0;

/**
 * Starts a server; always `close()` it (use `after`/`t.after`). Several servers share one store when
 * given the same `dataDir` (artifacts, and the SQLite file) and, on PostgreSQL, the same `databaseUrl`
 * (another server's `databaseUrl`; default: a fresh database).
 */
export async function startTestServer(options: { backend?: Backend; dataDir?: string; databaseUrl?: string } = {}): Promise<TestServer> {
  const backend = options.backend ?? 'sqlite';
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-test-'));
  const adminToken = `test-admin-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const databaseUrl = backend === 'postgres' ? (options.databaseUrl ?? (await createPostgresDatabase())) : undefined;
  const config = { ...loadServerConfig({ host: '127.0.0.1', port: 0, dataDir, adminToken, logLevel: 'silent' }, {}), databaseUrl };
  const server = await startServer(config, { logRequests: false });
  const request: TestServer['request'] = async (method, pathname, opts = {}) => {
    const token = opts.token === undefined ? adminToken : opts.token;
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body = opts.body;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    const response = await fetch(server.url + pathname, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };
  return {
    url: server.url,
    adminToken,
    server,
    dataDir,
    backend,
    databaseUrl,
    request,
    tokenWithRole: async (role) => {
      const response = await request('POST', '/api/v1/tokens', { json: { name: `t-${role}-${++tokenCounter}-${Date.now()}`, role } });
      if (response.status !== 201) throw new Error(`token creation failed: ${response.text}`);
      return response.body.token as string;
    },
    registerModel: async (name, bytes, metadata) => {
      const form = new FormData();
      if (metadata !== undefined) form.append('metadata', JSON.stringify(metadata));
      form.append('artifact', new Blob([bytes]), 'model.onnx');
      const response = await request('POST', `/api/v1/models/${name}/versions`, { body: form });
      if (response.status !== 201) throw new Error(`registering ${name}: HTTP ${response.status} ${response.text}`);
      return response.body as { version: number };
    },
    close: async () => {
      await server.stop();
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
