// The model manager: the serving engine the protocol adapters call. It loads model versions from
// the registry (verified artifact bytes → a warmed-up runtime session → a batcher), serves them by
// reference, follows aliases, and keeps memory within a budget.
//
// - Versions are keyed `name@version`; one session (pool) per loaded version, shared by every
//   reference that resolves to it.
// - `name@alias` and bare `name` references are bindings that re-resolve in the background once
//   they are older than aliasRefreshMs. When the version changes, the new one is loaded and warmed
//   up first, then the binding switches; the old version is released once its in-flight requests
//   have finished (reference counts), so no request fails during the swap.
// - Load on first request (optional); two concurrent first requests share one load.
// - Memory: each session's memory is estimated from the model file (MEMORY_FACTOR below); a load
//   that would exceed the budget first unloads idle versions, least recently used first.
import type { Registry } from 'prom-client';
import type { Actor } from '../auth/index.js';
import { PlinthError, isPlinthError, type Logger, type ServingSettings } from '../core/index.js';
import { assertServable, getVersion, parseModelReference, resolveModelVersion, type ModelReference, type ModelVersion } from '../registry/index.js';
import type { ArtifactInfo, ArtifactStore, Db } from '../store/index.js';
import { DynamicBatcher, isBatchable } from './batcher.js';
import { EngineMetrics } from './engine-metrics.js';
import type { ModelSession, RuntimeChoice, RuntimeKind } from './runtime.js';
import { openModelSession } from './runtime-factory.js';
import {
  applyOverrides,
  defaultServingConfig,
  effectiveBatching,
  readServingConfig,
  writeServingConfig,
  type ServingConfig,
  type ServingConfigView,
} from './serving-config.js';
import type { InferOptions, ServedModel, ServingEngine, TensorMap } from './types.js';

/**
 * Estimated memory of a session per byte of model file. Measured with onnxruntime-node 1.30 on
 * 20 MB single-MatMul models: RSS grows ~22 MB per session with MALLOC_MMAP_THRESHOLD_ set (see
 * docs/serving-engine.md) and ~40 MB without it (glibc then keeps freed load buffers in its heap), so 2×
 * keeps the budget on the safe side either way.
 */
export const MEMORY_FACTOR = 2;

/**
 * Estimated fixed memory of one worker thread (a V8 isolate with onnxruntime-node loaded, its
 * stacks and malloc arena), bytes. Measured from the bundle: ~60 MB RSS per worker holding a
 * 20 MB model, of which ~22 MB is the session.
 */
export const WORKER_OVERHEAD_BYTES = 40 * 1024 * 1024;

/** After a failed load, requests answer MODEL_NOT_READY for this long before a new attempt, ms. */
export const FAILED_LOAD_RETRY_MS = 5000;

/** Errors that mean a reference no longer resolves (as opposed to a passing database fault). */
const GONE = new Set(['MODEL_NOT_FOUND', 'MODEL_VERSION_NOT_FOUND', 'ALIAS_NOT_FOUND']);

export interface ModelManagerOptions {
  db: Db;
  artifacts: ArtifactStore;
  settings: ServingSettings;
  logger?: Logger;
}

/** A loaded (or loading, or failed) model version, as `loadedVersions()` reports it. */
export interface LoadedVersionInfo {
  name: string;
  version: number;
  state: 'loading' | 'ready' | 'failed';
  reason?: string;
  runtime: RuntimeKind | null;
  /** Median single-row run at warm-up, µs; null when unknown. */
  singleRowMicros: number | null;
  /** Counted against the memory budget, bytes. */
  memoryBytes: number;
  /** Requests queued or computing. */
  inFlight: number;
  /** Last use, ms since the Unix epoch. */
  lastUsed: number;
}

interface VersionEntry {
  key: string;
  name: string;
  version: number;
  record: ModelVersion;
  state: 'loading' | 'ready' | 'failed';
  /** Settles when the load ends; rejects with the load's error. */
  ready: Promise<void>;
  session: ModelSession | null;
  batcher: DynamicBatcher | null;
  /** The ServedModel answer for this version while ready (one object, not one per request). */
  served: ServedModel | null;
  /** Tensor outputs (all outputs that are tensors), for requests that name none. */
  defaultOutputs: readonly string[] | undefined;
  inFlight: number;
  /** Held against eviction while a swap to or from it is in progress. */
  pins: number;
  lastUsed: number;
  memoryBytes: number;
  /** References that served through this version (bindings and fixed references). */
  holders: Set<string>;
  /** Out of the table: released as soon as nothing is in flight. */
  retired: boolean;
  reason?: string;
  failedAt?: number;
  loadStartedAt: number;
}

/** A `name` or `name@alias` reference and the version it serves now. */
interface Binding {
  reference: string;
  parsed: ModelReference;
  key: string;
  /** performance.now() of the last resolution, ms. */
  checkedAt: number;
  refreshing: boolean;
}

function keyOf(name: string, version: number): string {
  return `${name}@${version}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A version's verified bytes. Streamed (ArtifactStore.open checks size and sha256, then re-hashes
 * chunk by chunk while reading) rather than `read`, which hashes the whole file in one synchronous
 * call: a 1 GB model would block the event loop for seconds.
 * @throws PlinthError ARTIFACT_NOT_FOUND, ARTIFACT_CORRUPT
 */
async function readVerified(artifacts: ArtifactStore, info: ArtifactInfo): Promise<Uint8Array> {
  const bytes = new Uint8Array(info.size);
  let offset = 0;
  for await (const chunk of await artifacts.open(info)) {
    const part = chunk as Buffer;
    if (offset + part.length > bytes.length) throw new PlinthError('ARTIFACT_CORRUPT', `artifact ${info.sha256} is larger than recorded`);
    bytes.set(part, offset);
    offset += part.length;
  }
  if (offset !== bytes.length) throw new PlinthError('ARTIFACT_CORRUPT', `artifact ${info.sha256} is shorter than recorded`);
  return bytes;
}

const ARRAY_BY_DATATYPE: Record<string, Function> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/** The serving engine (see the top of this file). */
export class ModelManager implements ServingEngine {
  readonly #db: Db;
  readonly #artifacts: ArtifactStore;
  readonly #settings: ServingSettings;
  readonly #logger: Logger | undefined;
  readonly #metrics = new EngineMetrics(() => [...this.#versions.values()].map((e) => ({ model: e.name, version: e.version, inFlight: e.inFlight })));
  readonly #versions = new Map<string, VersionEntry>();
  readonly #bindings = new Map<string, Binding>();
  /** Binding resolutions in progress, so concurrent first requests share one query. */
  readonly #resolving = new Map<string, Promise<Binding>>();
  /** Version records by key; the fields serving uses (signature, schema, artifact) never change. */
  readonly #records = new Map<string, ModelVersion>();
  /** Serving configs by model name. */
  readonly #configs = new Map<string, ServingConfig>();
  /** Runtime chosen by measurement, by artifact sha256, so a reload skips the measurement. */
  readonly #measured = new Map<string, RuntimeKind>();
  /** Sessions being released (awaited by close). */
  readonly #releasing = new Set<Promise<void>>();
  #closed = false;

  constructor(options: ModelManagerOptions) {
    this.#db = options.db;
    this.#artifacts = options.artifacts;
    this.#settings = options.settings;
    this.#logger = options.logger;
  }

  /** Registers the engine's metrics (queue time, batch size, in flight, loaded models…) in the server's registry. */
  registerMetrics(registry: Registry): void {
    this.#metrics.register(registry);
  }

  describe(reference: string): Promise<ServedModel> {
    // A loaded version answers without a promise chain of its own (the inference hot path).
    const served = this.#readyEntry(reference)?.served;
    return served ? Promise.resolve(served) : this.#describe(reference);
  }

  async #describe(reference: string): Promise<ServedModel> {
    const key = await this.#keyFor(reference);
    const entry = this.#versions.get(key);
    if (entry?.served) return entry.served;
    const record = await this.#record(key);
    // Versions of other MLflow flavors are listed but not served: say so before any input check.
    assertServable(record);
    const config = await this.#config(record.model);
    const { signature } = record;
    return {
      name: record.model,
      version: record.version,
      reference: key,
      signature,
      featureSchema: record.feature_schema,
      batching: effectiveBatching(config, isBatchable(signature.inputs, signature.outputs)),
      state: entry?.state ?? 'unloaded',
      ...(entry?.reason ? { reason: entry.reason } : {}),
    };
  }

  infer(reference: string, feeds: TensorMap, options: InferOptions = {}): Promise<{ model: ServedModel; outputs: TensorMap }> {
    // A loaded version is taken synchronously; otherwise #acquire resolves, loads or refuses.
    const entry = this.#closed ? undefined : this.#readyEntry(reference);
    if (entry) return this.#inferOn(this.#hold(entry, reference), feeds, options);
    return this.#acquire(reference).then((acquired) => this.#inferOn(acquired, feeds, options));
  }

  /** Runs a request on an acquired version (counted in flight) and releases it when the request ends. */
  #inferOn(entry: VersionEntry, feeds: TensorMap, options: InferOptions): Promise<{ model: ServedModel; outputs: TensorMap }> {
    let outputs: readonly string[] | undefined;
    try {
      outputs = this.#checkRequest(entry, feeds, options.outputs);
    } catch (error) {
      this.#release(entry);
      return Promise.reject(error as Error);
    }
    return entry.batcher!.submit(feeds, { outputs, timeoutMs: options.timeoutMs }).then(
      (result) => {
        const model = entry.served!;
        this.#release(entry);
        return { model, outputs: result };
      },
      (error: unknown) => {
        this.#release(entry);
        throw error;
      },
    );
  }

  async load(reference: string): Promise<ServedModel> {
    this.#assertOpen();
    const key = await this.#keyFor(reference);
    const record = await this.#record(key);
    const entry = await this.#ensureLoaded(record, true);
    entry.holders.add(reference);
    return entry.served!;
  }

  async unload(reference: string): Promise<void> {
    const { model, selector } = parseModelReference(reference);
    if (selector.kind === 'default') {
      // A bare name unloads every version of the model and forgets its bindings.
      const exists = await this.#db.selectFrom('models').select('id').where('name', '=', model).executeTakeFirst();
      if (!exists) throw new PlinthError('MODEL_NOT_FOUND', `no model named ${JSON.stringify(model)}`);
      for (const ref of [...this.#bindings.keys()]) if (this.#bindings.get(ref)!.parsed.model === model) this.#bindings.delete(ref);
      for (const entry of [...this.#versions.values()]) if (entry.name === model) this.#retire(entry, 'unloaded');
      return;
    }
    const binding = this.#bindings.get(reference);
    const key = binding ? binding.key : keyOf(model, (await resolveModelVersion(this.#db, { model, selector })).version);
    this.#bindings.delete(reference);
    const entry = this.#versions.get(key);
    if (entry) this.#retire(entry, 'unloaded');
  }

  async isReady(reference: string): Promise<boolean> {
    const key = await this.#keyFor(reference);
    return this.#versions.get(key)?.state === 'ready';
  }

  async index(): Promise<Array<{ name: string; version: string; state: string; reason?: string }>> {
    const rows = await this.#db
      .selectFrom('model_versions as v')
      .innerJoin('models as m', 'm.id', 'v.model_id')
      .select(['m.name as name', 'v.version as version'])
      .orderBy('m.name')
      .orderBy('v.version')
      .execute();
    return rows.map(({ name, version }) => {
      const entry = this.#versions.get(keyOf(name, version));
      return { name, version: String(version), state: entry?.state ?? 'unloaded', ...(entry?.reason ? { reason: entry.reason } : {}) };
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#bindings.clear();
    const loading: Array<Promise<void>> = [];
    for (const entry of [...this.#versions.values()]) {
      entry.batcher?.close(new PlinthError('SERVICE_UNAVAILABLE', 'the server is shutting down'));
      if (entry.state === 'loading') loading.push(entry.ready);
      this.#retire(entry, 'closed', true);
    }
    // Loads in progress end by releasing what they loaded (their entries are retired).
    await Promise.allSettled(loading);
    await Promise.allSettled([...this.#releasing]);
  }

  /** Every version in memory (loading, ready or failed), for diagnostics and tests. */
  loadedVersions(): LoadedVersionInfo[] {
    return [...this.#versions.values()].map((e) => ({
      name: e.name,
      version: e.version,
      state: e.state,
      ...(e.reason ? { reason: e.reason } : {}),
      runtime: e.session?.kind ?? null,
      singleRowMicros: e.session?.warmup.singleRowMicros ?? null,
      memoryBytes: e.memoryBytes,
      inFlight: e.inFlight,
      lastUsed: e.lastUsed,
    }));
  }

  /** The memory the loaded versions are estimated to take, bytes. */
  memoryInUse(): number {
    let used = 0;
    for (const e of this.#versions.values()) used += e.memoryBytes;
    return used;
  }

  /**
   * A model's serving settings.
   * @throws PlinthError MODEL_NOT_FOUND
   */
  getServingConfig(name: string): Promise<ServingConfigView> {
    return readServingConfig(this.#db, this.#settings, name);
  }

  /**
   * Replaces a model's serving overrides (audited). Batching changes apply at once to loaded
   * versions; a runtime change applies at the next load.
   * @throws PlinthError INVALID_ARGUMENT, MODEL_NOT_FOUND
   */
  async setServingConfig(actor: Actor, name: string, overrides: unknown): Promise<ServingConfigView> {
    const view = await writeServingConfig(this.#db, actor, this.#settings, name, overrides);
    const config: ServingConfig = { runtime: view.runtime, batching: view.batching };
    this.#configs.set(name, config);
    for (const entry of this.#versions.values()) {
      if (entry.name !== name || !entry.batcher || !entry.session) continue;
      entry.batcher.configure(effectiveBatching(config, isBatchable(entry.session.inputs, entry.session.outputs)));
      entry.served = { ...entry.served!, batching: entry.batcher.config };
    }
    return view;
  }

  // ---- resolution -------------------------------------------------------------------------

  /** The version key a reference serves now (bindings for `name` and `name@alias`). */
  async #keyFor(reference: string): Promise<string> {
    const binding = this.#bindings.get(reference);
    if (binding) {
      this.#refreshIfStale(binding);
      return binding.key;
    }
    const parsed = parseModelReference(reference);
    if (parsed.selector.kind === 'version') return keyOf(parsed.model, parsed.selector.version);
    return (await this.#bind(reference, parsed)).key;
  }

  /**
   * The ready version a reference serves now, found without waiting: through its binding (name or
   * alias) or a `name@N` reference. Undefined when that needs the database, a load, or an error.
   */
  #readyEntry(reference: string): VersionEntry | undefined {
    let key: string;
    const binding = this.#bindings.get(reference);
    if (binding) {
      this.#refreshIfStale(binding);
      key = binding.key;
    } else {
      let parsed: ModelReference;
      try {
        parsed = parseModelReference(reference);
      } catch {
        return undefined; // the slow path reports it
      }
      if (parsed.selector.kind !== 'version') return undefined;
      key = keyOf(parsed.model, parsed.selector.version);
    }
    const entry = this.#versions.get(key);
    return entry?.state === 'ready' ? entry : undefined;
  }

  /** Resolves an alias or default reference for the first time and remembers it. */
  #bind(reference: string, parsed: ModelReference): Promise<Binding> {
    let pending = this.#resolving.get(reference);
    if (!pending) {
      pending = (async () => {
        try {
          const resolved = await resolveModelVersion(this.#db, parsed);
          const key = keyOf(resolved.model, resolved.version);
          this.#records.set(key, resolved);
          const binding: Binding = { reference, parsed, key, checkedAt: performance.now(), refreshing: false };
          if (!this.#closed) this.#bindings.set(reference, binding);
          return binding;
        } finally {
          this.#resolving.delete(reference);
        }
      })();
      this.#resolving.set(reference, pending);
    }
    return pending;
  }

  #refreshIfStale(binding: Binding): void {
    if (binding.refreshing || performance.now() - binding.checkedAt < this.#settings.aliasRefreshMs) return;
    binding.refreshing = true;
    void this.#refresh(binding).finally(() => {
      binding.refreshing = false;
      binding.checkedAt = performance.now();
    });
  }

  /**
   * Re-resolves a binding; when it moved, loads the new version (if the old one was loaded) and
   * only then switches. Requests keep going to the old version until the switch.
   */
  async #refresh(binding: Binding): Promise<void> {
    let record: ModelVersion;
    try {
      record = await resolveModelVersion(this.#db, binding.parsed);
    } catch (error) {
      if (isPlinthError(error) && GONE.has(error.code)) {
        // The alias (or model) is gone: the next request resolves afresh and gets the 404.
        if (this.#bindings.get(binding.reference) === binding) this.#bindings.delete(binding.reference);
        this.#letGo(binding.reference, binding.key);
      } else {
        this.#logger?.warn({ err: error, reference: binding.reference }, 'could not re-resolve a model reference; serving the version it had');
      }
      return;
    }
    const key = keyOf(record.model, record.version);
    this.#records.set(key, record);
    if (key === binding.key || this.#closed) return;
    const old = this.#versions.get(binding.key);
    if (old && old.state === 'ready') {
      old.pins++;
      try {
        // A version that failed to load is retried only after FAILED_LOAD_RETRY_MS, not every refresh.
        const entry = await this.#ensureLoaded(record, false);
        entry.holders.add(binding.reference);
      } catch (error) {
        this.#logger?.warn({ err: error, reference: binding.reference, version: record.version }, 'the new version of a model reference failed to load; serving the old one');
        return;
      } finally {
        old.pins--;
      }
    }
    if (this.#bindings.get(binding.reference) !== binding) return;
    const previous = binding.key;
    binding.key = key;
    this.#logger?.info({ reference: binding.reference, from: previous, to: key }, 'model reference moved to a new version');
    this.#letGo(binding.reference, previous);
  }

  /** `reference` no longer serves through `key`: unload that version when nothing else holds it. */
  #letGo(reference: string, key: string): void {
    const entry = this.#versions.get(key);
    if (!entry) return;
    entry.holders.delete(reference);
    if (entry.holders.size === 0) this.#retire(entry, 'no reference serves it any more');
  }

  /** A version's record (cached). @throws PlinthError MODEL_NOT_FOUND, MODEL_VERSION_NOT_FOUND */
  async #record(key: string): Promise<ModelVersion> {
    const cached = this.#records.get(key);
    if (cached) return cached;
    const at = key.lastIndexOf('@');
    const record = await getVersion(this.#db, key.slice(0, at), { kind: 'version', version: Number(key.slice(at + 1)) });
    this.#records.set(key, record);
    return record;
  }

  /** A model's serving config: cached, or read afresh (loads read afresh, so they see every change). */
  async #config(name: string, fresh = false): Promise<ServingConfig> {
    const cached = fresh ? undefined : this.#configs.get(name);
    if (cached) return cached;
    const row = await this.#db.selectFrom('serving_configs').select('config').where('model_name', '=', name).executeTakeFirst();
    const config = applyOverrides(defaultServingConfig(this.#settings), row ? JSON.parse(row.config) : {});
    this.#configs.set(name, config);
    return config;
  }

  // ---- serving ----------------------------------------------------------------------------

  /** Finds (loading on demand) the version a reference serves and counts a request in flight on it. */
  async #acquire(reference: string): Promise<VersionEntry> {
    this.#assertOpen();
    for (let attempt = 0; attempt < 3; attempt++) {
      const key = await this.#keyFor(reference);
      // Lookup and count happen in one synchronous step, so a swap or an eviction cannot release
      // the version between them.
      const entry = this.#versions.get(key);
      if (entry?.state === 'ready') return this.#hold(entry, reference);
      if (entry?.state === 'failed' && Date.now() - entry.failedAt! < FAILED_LOAD_RETRY_MS) {
        throw new PlinthError('MODEL_NOT_READY', `model ${key} failed to load: ${entry.reason}`);
      }
      if (entry?.state !== 'loading' && !this.#settings.loadOnDemand) {
        throw new PlinthError('MODEL_NOT_READY', `model ${key} is not loaded (load it first: load on demand is off)`);
      }
      await this.#ensureLoaded(await this.#record(key), false);
    }
    throw new PlinthError('MODEL_NOT_READY', `model ${reference} was unloaded while loading; retry`);
  }

  /** Counts a request in flight on a ready version (in the same synchronous step as its lookup). */
  #hold(entry: VersionEntry, reference: string): VersionEntry {
    entry.inFlight++;
    entry.lastUsed = Date.now();
    if (!entry.holders.has(reference)) entry.holders.add(reference);
    return entry;
  }

  #release(entry: VersionEntry): void {
    entry.inFlight--;
    if (entry.retired && entry.inFlight === 0) this.#destroy(entry);
  }

  /** Checks the feeds against the session and returns the outputs to compute. @throws PlinthError INVALID_INFERENCE_INPUT */
  #checkRequest(entry: VersionEntry, feeds: TensorMap, outputs: readonly string[] | undefined): readonly string[] | undefined {
    const session = entry.session!;
    const bad = (message: string) => new PlinthError('INVALID_INFERENCE_INPUT', `${entry.key}: ${message}`);
    for (const input of session.inputs) {
      const tensor = feeds[input.name];
      if (!tensor) throw bad(`missing input ${JSON.stringify(input.name)}`);
      if (tensor.datatype !== input.datatype) throw bad(`input ${JSON.stringify(input.name)} must be ${input.datatype}, got ${tensor.datatype}`);
      const shape = input.shape!;
      if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => !Number.isInteger(d) || d < 0 || (shape[i]! >= 0 && d !== shape[i]))) {
        throw bad(`input ${JSON.stringify(input.name)} has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}] (-1: any size)`);
      }
      let size = 1;
      for (const d of tensor.shape) size *= d;
      const expected = ARRAY_BY_DATATYPE[tensor.datatype];
      if (tensor.datatype === 'BYTES' ? !Array.isArray(tensor.data) : !(expected && tensor.data instanceof expected)) {
        throw bad(`input ${JSON.stringify(input.name)}: data storage does not match datatype ${tensor.datatype}`);
      }
      if (tensor.data.length !== size) throw bad(`input ${JSON.stringify(input.name)} has ${tensor.data.length} values for shape [${tensor.shape.join(', ')}] (${size})`);
    }
    for (const name of Object.keys(feeds)) {
      if (!session.inputs.some((i) => i.name === name)) throw bad(`unknown input ${JSON.stringify(name)}`);
    }
    if (outputs === undefined) return entry.defaultOutputs;
    for (const name of outputs) {
      const spec = session.outputs.find((o) => o.name === name);
      if (!spec) throw bad(`unknown output ${JSON.stringify(name)}`);
      if (spec.datatype === null) throw bad(`output ${JSON.stringify(name)} is not a tensor and cannot be returned`);
    }
    return outputs;
  }

  // ---- loading and unloading --------------------------------------------------------------

  /**
   * Loads a version unless it is loaded or loading (then joins that load). `retryFailed` retries a
   * version whose last load failed, however recently.
   * @throws PlinthError MODEL_NOT_READY when the load fails or the version does not fit the budget.
   */
  async #ensureLoaded(record: ModelVersion, retryFailed: boolean): Promise<VersionEntry> {
    this.#assertOpen();
    assertServable(record);
    const key = keyOf(record.model, record.version);
    let entry = this.#versions.get(key);
    if (entry?.state === 'failed' && !retryFailed && Date.now() - entry.failedAt! < FAILED_LOAD_RETRY_MS) {
      throw new PlinthError('MODEL_NOT_READY', `model ${key} failed to load: ${entry.reason}`);
    }
    if (!entry || entry.state === 'failed') {
      // Created synchronously, so a concurrent request finds it 'loading' and waits for this load.
      entry = this.#newEntry(record);
      this.#versions.set(key, entry);
      entry.ready = this.#loadInto(entry);
    }
    try {
      await entry.ready;
    } catch (error) {
      throw new PlinthError('MODEL_NOT_READY', `model ${key} failed to load: ${messageOf(error)}`, { cause: error });
    }
    return entry;
  }

  #newEntry(record: ModelVersion): VersionEntry {
    return {
      key: keyOf(record.model, record.version),
      name: record.model,
      version: record.version,
      record,
      state: 'loading',
      ready: Promise.resolve(),
      session: null,
      batcher: null,
      served: null,
      defaultOutputs: undefined,
      inFlight: 0,
      pins: 0,
      lastUsed: Date.now(),
      memoryBytes: 0,
      holders: new Set(),
      retired: false,
      loadStartedAt: performance.now(),
    };
  }

  #estimate(size: number, runtime: RuntimeKind): number {
    return runtime === 'worker' ? this.#settings.workers * (size * MEMORY_FACTOR + WORKER_OVERHEAD_BYTES) : size * MEMORY_FACTOR;
  }

  async #loadInto(entry: VersionEntry): Promise<void> {
    const { record } = entry;
    const labels = { model: entry.name, version: String(entry.version) };
    let session: ModelSession | null = null;
    try {
      const config = await this.#config(entry.name, true);
      const choice: RuntimeChoice = config.runtime === 'auto' ? (this.#measured.get(record.artifact_sha256) ?? 'auto') : config.runtime;
      // Reserve the estimate before reading the file, so concurrent loads see each other.
      entry.memoryBytes = this.#estimate(record.artifact_size, choice === 'worker' ? 'worker' : 'inline');
      this.#makeRoom(entry);
      const bytes = await readVerified(this.#artifacts, { sha256: record.artifact_sha256, size: record.artifact_size });
      if (entry.retired) throw new PlinthError('MODEL_NOT_READY', 'unloaded while loading');
      session = await openModelSession(bytes, {
        runtime: choice,
        workers: this.#settings.workers,
        inlineThresholdMicros: this.#settings.inlineThresholdMicros,
        session: { intraOpNumThreads: this.#settings.intraOpThreads, executionProviders: this.#settings.executionProviders, graphOptimizationLevel: 'all' },
      });
      if (config.runtime === 'auto') this.#measured.set(record.artifact_sha256, session.kind);
      entry.memoryBytes = this.#estimate(record.artifact_size, session.kind);
      if (entry.retired || this.#closed) throw new PlinthError('MODEL_NOT_READY', 'unloaded while loading');
      this.#makeRoom(entry);
      const batchSize = this.#metrics.batchSize.labels(labels);
      const queueTime = this.#metrics.queueSeconds.labels(labels);
      const computeTime = this.#metrics.computeSeconds.labels(labels);
      const batcher = new DynamicBatcher(session, effectiveBatching(config, isBatchable(session.inputs, session.outputs)), {
        onBatch: (rows, queueSeconds) => {
          batchSize.observe(rows);
          for (const s of queueSeconds) queueTime.observe(s);
        },
        onCompute: (seconds) => computeTime.observe(seconds),
        onBatchingDisabled: (reason) => {
          this.#logger?.warn({ model: entry.key, reason }, 'dynamic batching turned off for a model version');
          if (entry.served && entry.batcher) entry.served = { ...entry.served, batching: entry.batcher.config };
        },
      });
      const tensorOutputs = session.outputs.filter((o) => o.datatype !== null).map((o) => o.name);
      entry.defaultOutputs = tensorOutputs.length === session.outputs.length ? undefined : tensorOutputs;
      entry.session = session;
      entry.batcher = batcher;
      entry.served = {
        name: entry.name,
        version: entry.version,
        reference: entry.key,
        signature: record.signature,
        featureSchema: record.feature_schema,
        batching: batcher.config,
        state: 'ready',
      };
      entry.state = 'ready';
      entry.lastUsed = Date.now();
      const seconds = (performance.now() - entry.loadStartedAt) / 1000;
      this.#metrics.loadSeconds.observe({ model: entry.name }, seconds);
      this.#metrics.loaded.set({ ...labels, runtime: session.kind }, 1);
      this.#metrics.memoryBytes.set(labels, entry.memoryBytes);
      this.#logger?.info(
        { model: entry.key, runtime: session.kind, single_row_us: session.warmup.singleRowMicros, warmup_ok: session.warmup.ok, load_ms: Math.round(seconds * 1000), memory_estimate_bytes: entry.memoryBytes },
        'model version loaded',
      );
    } catch (error) {
      await session?.release();
      entry.session = null;
      entry.state = 'failed';
      entry.reason = messageOf(error);
      entry.failedAt = Date.now();
      entry.memoryBytes = 0;
      this.#logger?.warn({ model: entry.key, reason: entry.reason }, 'model version failed to load');
      throw error;
    }
  }

  /**
   * Makes room in the budget for `entry` (whose memoryBytes is already counted) by unloading idle
   * versions, least recently used first.
   * @throws PlinthError MODEL_NOT_READY when busy versions leave too little room.
   */
  #makeRoom(entry: VersionEntry): void {
    const budget = this.#settings.memoryBudgetBytes;
    let used = this.memoryInUse();
    if (used <= budget) return;
    const idle = [...this.#versions.values()]
      .filter((e) => e !== entry && e.state === 'ready' && e.inFlight === 0 && e.pins === 0)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    const freeable = idle.reduce((n, e) => n + e.memoryBytes, 0);
    if (used - freeable > budget) {
      // Unloading every idle version would not be enough: unload none.
      const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
      throw new PlinthError(
        'MODEL_NOT_READY',
        `model ${entry.key} (${mb(entry.memoryBytes)} estimated) does not fit the memory budget of ${mb(budget)}: ${mb(used - freeable - entry.memoryBytes)} are held by versions in use`,
      );
    }
    for (const victim of idle) {
      if (used <= budget) break;
      used -= victim.memoryBytes;
      this.#retire(victim, 'evicted (memory budget)');
    }
  }

  /** Takes a version out of the table; its session is released once nothing is in flight on it. */
  #retire(entry: VersionEntry, why: string, closing = false): void {
    if (entry.retired) return;
    entry.retired = true;
    if (this.#versions.get(entry.key) === entry) this.#versions.delete(entry.key);
    if (entry.state === 'ready' && !closing) this.#logger?.info({ model: entry.key, reason: why }, 'model version unloaded');
    if (entry.state === 'loading') return; // #loadInto sees `retired` and releases what it loaded
    if (entry.inFlight === 0) this.#destroy(entry);
  }

  #destroy(entry: VersionEntry): void {
    const labels = { model: entry.name, version: String(entry.version) };
    const { session, batcher } = entry;
    entry.session = null;
    entry.batcher = null;
    entry.served = null;
    entry.memoryBytes = 0;
    if (session) this.#metrics.loaded.remove({ ...labels, runtime: session.kind });
    this.#metrics.memoryBytes.remove(labels);
    if (!session) return;
    const released = (async () => {
      batcher?.close();
      // Batches computing finish first: releasing a session under a run is not allowed.
      await batcher?.idle();
      await session.release();
    })().catch((error: unknown) => this.#logger?.warn({ err: error, model: entry.key }, 'releasing a session failed'));
    this.#releasing.add(released);
    void released.finally(() => this.#releasing.delete(released));
  }

  #assertOpen(): void {
    if (this.#closed) throw new PlinthError('SERVICE_UNAVAILABLE', 'the serving engine is shut down');
  }
}
