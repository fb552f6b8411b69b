// Builds the server's prediction log from its settings: the hash key (configured, or generated once in
// the data folder), and on SQLite the writer thread over the store's file.
import path from 'node:path';
import type { PredictionLogSettings } from '../core/index.js';
import type { Database } from '../store/index.js';
import { loadHashKey } from './hash-key.js';
import { PredictionLog, type PredictionLogOptions } from './prediction-log.js';

export interface OpenPredictionLogOptions {
  /** The data folder: where SQLite's `plinth.db` lives and the generated hash key is kept. */
  dataDir: string;
  /** On SQLite, insert and commit on a writer thread (see sqlite-writer.ts). @default true */
  writerThread?: boolean;
  /** Told about failed writes and sweeps (log them). */
  onError?: PredictionLogOptions['onError'];
}

/**
 * The prediction log for an open store, configured by `settings` (ServerConfig.predictionLog).
 * Close it before the database.
 */
export function openPredictionLog(database: Database, settings: PredictionLogSettings, options: OpenPredictionLogOptions): PredictionLog {
  const writerThread = database.dialect === 'sqlite' && options.writerThread !== false;
  return new PredictionLog({
    db: database.db,
    mode: settings.mode,
    groupCommitMs: settings.groupCommitMs,
    sampleRate: settings.sampleRate,
    retentionDays: settings.retentionDays,
    maxRows: settings.maxRows,
    sensitive: settings.sensitive,
    ...(settings.sensitive === 'hash' ? { hashKey: loadHashKey(options.dataDir, settings.hashKey) } : {}),
    ...(writerThread ? { sqliteFile: path.join(options.dataDir, 'plinth.db') } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
}
