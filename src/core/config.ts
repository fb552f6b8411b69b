// The typed configuration, built once from command-line flags, environment variables and defaults.
// This is the only module that reads process.env.
import os from 'node:os';
import path from 'node:path';
import { PlinthError } from './errors.js';

/** Settings of the serving engine (model manager, runtimes, batching defaults). */
export interface ServingSettings {
  /** Memory the loaded models may take together (estimated per session), bytes. @default 2048 MiB (PLINTH_MEMORY_BUDGET_MB) */
  memoryBudgetBytes: number;
  /** Load a model version on its first inference request. @default true (PLINTH_LOAD_ON_DEMAND) */
  loadOnDemand: boolean;
  /** `auto` measures each model at load; `inline` or `worker` forces one runtime. @default 'auto' (PLINTH_SERVING_RUNTIME) */
  runtime: 'auto' | 'inline' | 'worker';
  /** Worker threads per model on the worker runtime. @default min(2, CPU cores) (PLINTH_SERVING_WORKERS) */
  workers: number;
  /** Under `auto`, models whose single-row run is shorter than this stay on the main thread, µs. @default 1000 (PLINTH_INLINE_THRESHOLD_US) */
  inlineThresholdMicros: number;
  /** onnxruntime intra-op threads per session. @default 1 (PLINTH_INTRA_OP_THREADS) */
  intraOpThreads: number;
  /** onnxruntime execution providers in order of preference, e.g. `cuda,cpu` where its binaries exist. @default ['cpu'] (PLINTH_EXECUTION_PROVIDERS) */
  executionProviders: string[];
  /** How often `name` and `name@alias` references are re-resolved, ms. @default 1000 (PLINTH_ALIAS_REFRESH_MS) */
  aliasRefreshMs: number;
  /** Batching defaults for models without a serving config of their own. */
  batching: {
    /** @default 64 (PLINTH_BATCH_MAX_SIZE) */
    max_batch_size: number;
    /** µs; 0 batches what arrived in the same event-loop turn, adding no latency. @default 0 (PLINTH_BATCH_MAX_DELAY_US) */
    max_queue_delay_microseconds: number;
    /** @default 1024 (PLINTH_BATCH_MAX_QUEUE) */
    max_queue_size: number;
    /** ms. @default 30000 (PLINTH_INFERENCE_TIMEOUT_MS) */
    timeout_ms: number;
  };
}

/** Settings of the prediction log (src/predlog): what is kept of each served request, and for how long. */
export interface PredictionLogSettings {
  /**
   * `durable`: a request's log row is committed (group commit) before its answer goes out, so no
   * acknowledged prediction is lost to a crash; `fast`: rows are written every ~200 ms, and a crash
   * loses at most the rows of that window. @default 'durable' (PLINTH_PREDLOG_MODE)
   */
  mode: 'durable' | 'fast';
  /**
   * Durable mode: how long a group commit waits for more rows before it writes, ms (0 writes at the
   * end of the event-loop turn). Longer waits make fewer, larger transactions: less CPU per request at
   * full load, that much more latency. @default 0 (PLINTH_PREDLOG_GROUP_COMMIT_MS)
   */
  groupCommitMs: number;
  /** Share of requests logged, 0..1, decided per request id. @default 1 (PLINTH_PREDLOG_SAMPLE_RATE) */
  sampleRate: number;
  /** Rows older than this are deleted, days; 0 keeps them. @default 30 (PLINTH_PREDLOG_RETENTION_DAYS) */
  retentionDays: number;
  /** Rows kept at most (the oldest are deleted first); 0 means no limit. @default 10000000 (PLINTH_PREDLOG_MAX_ROWS) */
  maxRows: number;
  /** What happens to features marked sensitive: `hash` (keyed HMAC-SHA256) or `drop` (null). @default 'hash' (PLINTH_PREDLOG_SENSITIVE) */
  sensitive: 'hash' | 'drop';
  /**
   * HMAC key for hashed sensitive features. When unset, a random key is generated once and kept in
   * the data folder (`predlog-hash.key`). (PLINTH_PREDLOG_HASH_KEY)
   */
  hashKey: string | undefined;
}

export interface ServerConfig {
  /** Interface to listen on. @default '127.0.0.1' (PLINTH_HOST) */
  host: string;
  /** TCP port; 0 picks a free one. @default 8080 (PLINTH_PORT) */
  port: number;
  /** Folder of the embedded store: SQLite database and artifacts. @default './.plinth' (PLINTH_DATA_DIR) */
  dataDir: string;
  /** `postgres://…` to keep metadata in PostgreSQL; unset means SQLite in dataDir. (PLINTH_DATABASE_URL) */
  databaseUrl: string | undefined;
  /** Admin token to create on first start instead of a random one. (PLINTH_ADMIN_TOKEN) */
  adminToken: string | undefined;
  /** pino log level. @default 'info' (PLINTH_LOG_LEVEL) */
  logLevel: string;
  /** Largest JSON body accepted, bytes. @default 16 MiB (PLINTH_MAX_BODY_BYTES) */
  maxBodyBytes: number;
  /** Largest uploaded file (model or dataset), bytes. @default 8 GiB (PLINTH_MAX_UPLOAD_BYTES) */
  maxUploadBytes: number;
  /** The serving engine's settings. */
  serving: ServingSettings;
  /** The prediction log's settings. */
  predictionLog: PredictionLogSettings;
}

export interface ClientConfig {
  /** Server base URL. @default 'http://127.0.0.1:8080' (PLINTH_URL) */
  url: string;
  /** Bearer token. (PLINTH_TOKEN) */
  token: string | undefined;
}

export type Env = Record<string, string | undefined>;

/** Flags as the CLI parsed them; every field optional. */
export type ServerFlags = Partial<Pick<ServerConfig, 'host' | 'dataDir' | 'databaseUrl' | 'adminToken' | 'logLevel'>> & {
  port?: number | string;
};

function parseInteger(value: string | number, name: string, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new PlinthError('INVALID_ARGUMENT', `${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function parseBoolean(value: string | boolean, name: string): boolean {
  if (typeof value === 'boolean') return value;
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new PlinthError('INVALID_ARGUMENT', `${name} must be true or false, got ${JSON.stringify(value)}`);
}

/**
 * Builds the serving settings from the environment.
 * @throws PlinthError INVALID_ARGUMENT for a malformed value.
 */
export function loadServingSettings(env: Env = process.env): ServingSettings {
  const runtime = env.PLINTH_SERVING_RUNTIME ?? 'auto';
  if (runtime !== 'auto' && runtime !== 'inline' && runtime !== 'worker') {
    throw new PlinthError('INVALID_ARGUMENT', `PLINTH_SERVING_RUNTIME must be auto, inline or worker, got ${JSON.stringify(runtime)}`);
  }
  const providers = (env.PLINTH_EXECUTION_PROVIDERS ?? 'cpu').split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (providers.length === 0) throw new PlinthError('INVALID_ARGUMENT', 'PLINTH_EXECUTION_PROVIDERS must name at least one execution provider');
  return {
    memoryBudgetBytes: parseInteger(env.PLINTH_MEMORY_BUDGET_MB ?? 2048, 'PLINTH_MEMORY_BUDGET_MB', 1, 2 ** 24) * 1024 * 1024,
    loadOnDemand: parseBoolean(env.PLINTH_LOAD_ON_DEMAND ?? true, 'PLINTH_LOAD_ON_DEMAND'),
    runtime,
    workers: parseInteger(env.PLINTH_SERVING_WORKERS ?? Math.min(2, os.availableParallelism()), 'PLINTH_SERVING_WORKERS', 1, 64),
    inlineThresholdMicros: parseInteger(env.PLINTH_INLINE_THRESHOLD_US ?? 1000, 'PLINTH_INLINE_THRESHOLD_US', 0, 60_000_000),
    intraOpThreads: parseInteger(env.PLINTH_INTRA_OP_THREADS ?? 1, 'PLINTH_INTRA_OP_THREADS', 1, 256),
    executionProviders: providers,
    aliasRefreshMs: parseInteger(env.PLINTH_ALIAS_REFRESH_MS ?? 1000, 'PLINTH_ALIAS_REFRESH_MS', 10, 86_400_000),
    batching: {
      max_batch_size: parseInteger(env.PLINTH_BATCH_MAX_SIZE ?? 64, 'PLINTH_BATCH_MAX_SIZE', 1, 65536),
      max_queue_delay_microseconds: parseInteger(env.PLINTH_BATCH_MAX_DELAY_US ?? 0, 'PLINTH_BATCH_MAX_DELAY_US', 0, 10_000_000),
      max_queue_size: parseInteger(env.PLINTH_BATCH_MAX_QUEUE ?? 1024, 'PLINTH_BATCH_MAX_QUEUE', 1, 1_000_000),
      timeout_ms: parseInteger(env.PLINTH_INFERENCE_TIMEOUT_MS ?? 30000, 'PLINTH_INFERENCE_TIMEOUT_MS', 1, 3_600_000),
    },
  };
}

/**
 * Builds the prediction log's settings from the environment.
 * @throws PlinthError INVALID_ARGUMENT for a malformed value.
 */
export function loadPredictionLogSettings(env: Env = process.env): PredictionLogSettings {
  const mode = env.PLINTH_PREDLOG_MODE ?? 'durable';
  if (mode !== 'durable' && mode !== 'fast') throw new PlinthError('INVALID_ARGUMENT', `PLINTH_PREDLOG_MODE must be durable or fast, got ${JSON.stringify(mode)}`);
  const sensitive = env.PLINTH_PREDLOG_SENSITIVE ?? 'hash';
  if (sensitive !== 'hash' && sensitive !== 'drop') throw new PlinthError('INVALID_ARGUMENT', `PLINTH_PREDLOG_SENSITIVE must be hash or drop, got ${JSON.stringify(sensitive)}`);
  const rateText = env.PLINTH_PREDLOG_SAMPLE_RATE ?? '1';
  const sampleRate = rateText.trim() === '' ? NaN : Number(rateText);
  if (!(sampleRate >= 0 && sampleRate <= 1)) throw new PlinthError('INVALID_ARGUMENT', `PLINTH_PREDLOG_SAMPLE_RATE must be a number between 0 and 1, got ${JSON.stringify(rateText)}`);
  return {
    mode,
    groupCommitMs: parseInteger(env.PLINTH_PREDLOG_GROUP_COMMIT_MS ?? 0, 'PLINTH_PREDLOG_GROUP_COMMIT_MS', 0, 1000),
    sampleRate,
    retentionDays: parseInteger(env.PLINTH_PREDLOG_RETENTION_DAYS ?? 30, 'PLINTH_PREDLOG_RETENTION_DAYS', 0, 1_000_000),
    maxRows: parseInteger(env.PLINTH_PREDLOG_MAX_ROWS ?? 10_000_000, 'PLINTH_PREDLOG_MAX_ROWS', 0, Number.MAX_SAFE_INTEGER),
    sensitive,
    hashKey: env.PLINTH_PREDLOG_HASH_KEY || undefined,
  };
}

/**
 * Builds the server configuration: flags win over environment variables, which win over defaults.
 * @throws PlinthError INVALID_ARGUMENT for a malformed port, size or database URL.
 */
export function loadServerConfig(flags: ServerFlags = {}, env: Env = process.env): ServerConfig {
  const databaseUrl = flags.databaseUrl ?? env.PLINTH_DATABASE_URL ?? undefined;
  if (databaseUrl !== undefined && databaseUrl !== '' && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new PlinthError('INVALID_ARGUMENT', 'database URL must start with postgres:// or postgresql://');
  }
  return {
    host: flags.host ?? env.PLINTH_HOST ?? '127.0.0.1',
    port: parseInteger(flags.port ?? env.PLINTH_PORT ?? 8080, 'port', 0, 65535),
    dataDir: path.resolve(flags.dataDir ?? env.PLINTH_DATA_DIR ?? '.plinth'),
    databaseUrl: databaseUrl === '' ? undefined : databaseUrl,
    adminToken: flags.adminToken ?? (env.PLINTH_ADMIN_TOKEN || undefined),
    logLevel: flags.logLevel ?? env.PLINTH_LOG_LEVEL ?? 'info',
    maxBodyBytes: parseInteger(env.PLINTH_MAX_BODY_BYTES ?? 16 * 1024 * 1024, 'PLINTH_MAX_BODY_BYTES', 1024, 2 ** 31),
    maxUploadBytes: parseInteger(env.PLINTH_MAX_UPLOAD_BYTES ?? 8 * 1024 ** 3, 'PLINTH_MAX_UPLOAD_BYTES', 1024, 2 ** 45),
    serving: loadServingSettings(env),
    predictionLog: loadPredictionLogSettings(env),
  };
}

/** Builds the CLI's client configuration from flags and environment. */
export function loadClientConfig(flags: Partial<ClientConfig> = {}, env: Env = process.env): ClientConfig {
  const url = (flags.url ?? env.PLINTH_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  return { url, token: flags.token ?? (env.PLINTH_TOKEN || undefined) };
}
