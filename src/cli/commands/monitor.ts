// `plinth monitor create|list|show|run|results|delete` (a deployment's monitors and their results)
// and `plinth monitor reference set|show` (a model version's reference profile).
import type { Command } from 'commander';
import { PlinthError } from '../../core/index.js';
import { clientFor, wantsJson } from '../context.js';
import { emit, formatRecord, formatTable, formatTime } from '../output.js';

interface MonitorInfo {
  name: string;
  deployment: string;
  kind: string;
  window: { requests: number } | { seconds: number };
  config: unknown;
  schedule_seconds: number | null;
  enabled: boolean;
  last_run_at: number | null;
  next_run_at: number | null;
  latest?: { status: string; computed_at: number } | null;
}

interface ResultInfo {
  id: number;
  monitor: string;
  kind: string;
  status: string;
  rows: number;
  window_start: number | null;
  window_end: number | null;
  computed_at: number;
  metrics: Record<string, number>;
  result: Record<string, any>;
}

const path = (deployment: string, ...rest: string[]) => `/api/v1/deployments/${encodeURIComponent(deployment)}${rest.map((r) => `/${encodeURIComponent(r)}`).join('')}`;

function positiveInteger(value: string, option: string): number {
  if (!/^[1-9]\d{0,15}$/.test(value)) throw new PlinthError('INVALID_ARGUMENT', `${option} must be a positive integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

function windowText(window: MonitorInfo['window']): string {
  return 'requests' in window ? `last ${window.requests} requests` : `last ${window.seconds} s`;
}

function number(value: unknown): string {
  return typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toPrecision(6)) : '';
}

/** A result for people: its status line, then per-feature lines by kind, or its metrics. */
export function formatResult(r: ResultInfo): string {
  const head = formatRecord({
    monitor: r.monitor,
    kind: r.kind,
    status: r.status,
    computed: formatTime(r.computed_at),
    requests: r.rows,
    window: r.window_start === null ? '' : `${formatTime(r.window_start)} … ${formatTime(r.window_end)}`,
    ...(r.result?.reason ? { reason: r.result.reason } : {}),
    ...(r.result?.error ? { error: `${r.result.error.code}: ${r.result.error.message}` } : {}),
  });
  if (r.kind === 'drift' && Array.isArray(r.result?.features)) {
    const rows = [...r.result.features, ...(r.result.prediction ? [{ ...r.result.prediction, feature: '(prediction)' }] : [])];
    const dataset = r.result.dataset;
    return head + (dataset ? `drifted features: ${dataset.drifted_features} of ${dataset.evaluated} (share ${number(dataset.share)}, threshold ${dataset.drift_share})\n` : '') + '\n' + formatTable(rows, [
      { header: 'feature', value: (f) => f.feature },
      { header: 'test', value: (f) => f.test },
      { header: 'statistic', value: (f) => number(f.statistic) },
      { header: 'p-value', value: (f) => number(f.adjusted_p_value) },
      { header: 'drifted', value: (f) => (f.drifted === null ? '' : f.drifted ? 'yes' : 'no') },
      { header: 'status', value: (f) => (f.status === 'ok' ? 'ok' : `${f.status}: ${f.reason}`) },
    ]);
  }
  if (r.kind === 'quality' && Array.isArray(r.result?.features)) {
    return head + '\n' + formatTable(r.result.features, [
      { header: 'feature', value: (f) => f.feature },
      { header: 'type', value: (f) => f.type },
      { header: 'rows', value: (f) => f.rows },
      { header: 'missing', value: (f) => f.counts.missing_value },
      { header: 'type mismatch', value: (f) => f.counts.type_mismatch },
      { header: 'out of range', value: (f) => f.counts.out_of_range },
      { header: 'unseen category', value: (f) => f.counts.unseen_category },
      { header: 'missing field', value: (f) => f.counts.missing_field },
    ]) + (r.result.extra_fields?.length ? `extra fields: ${r.result.extra_fields.map((e: { field: string; rows: number }) => `${e.field} (${e.rows})`).join(', ')}\n` : '');
  }
  const metrics = Object.entries(r.metrics ?? {});
  return head + (metrics.length ? '\n' + formatTable(metrics, [{ header: 'metric', value: ([k]) => k }, { header: 'value', value: ([, v]) => number(v) }]) : '');
}

interface MonitorFlags {
  requests?: string;
  seconds?: string;
  every?: string;
  onDemand?: boolean;
  config?: string;
}

/**
 * The window, schedule and settings given by flags, as the API takes them.
 * @throws PlinthError INVALID_ARGUMENT for conflicting flags, bad numbers or JSON.
 */
function monitorChanges(options: MonitorFlags): Record<string, unknown> {
  if (options.requests !== undefined && options.seconds !== undefined) throw new PlinthError('INVALID_ARGUMENT', 'give --requests or --seconds, not both');
  if (options.every !== undefined && options.onDemand) throw new PlinthError('INVALID_ARGUMENT', 'give --every or --on-demand, not both');
  let config: unknown;
  if (options.config !== undefined) {
    try {
      config = JSON.parse(options.config);
    } catch {
      throw new PlinthError('INVALID_ARGUMENT', '--config must be JSON');
    }
  }
  return {
    ...(options.requests !== undefined ? { window: { requests: positiveInteger(options.requests, '--requests') } } : {}),
    ...(options.seconds !== undefined ? { window: { seconds: positiveInteger(options.seconds, '--seconds') } } : {}),
    ...(options.every !== undefined ? { schedule_seconds: positiveInteger(options.every, '--every') } : {}),
    ...(options.onDemand ? { schedule_seconds: null } : {}),
    ...(config !== undefined ? { config } : {}),
  };
}

export function registerMonitorCommands(program: Command): void {
  const monitor = program.command('monitor').description("monitor a deployment's traffic: drift, data quality, performance, concept drift");

  monitor
    .command('create <deployment> <name>')
    .description('create a monitor of a deployment')
    .requiredOption('--kind <kind>', 'drift | quality | performance | concept')
    .option('--requests <n>', 'window: the newest N answered requests (default 1000)')
    .option('--seconds <s>', 'window: the requests of the last S seconds')
    .option('--every <s>', 'run every S seconds (default 300)')
    .option('--on-demand', 'run only when asked (plinth monitor run)')
    .option('--config <json>', "the kind's settings as JSON, e.g. '{\"tests\": {\"age\": \"psi\"}, \"correction\": \"bonferroni\"}'")
    .option('--disabled', 'create it disabled')
    .action(async (deployment: string, name: string, options: MonitorFlags & { kind: string; disabled?: boolean }, command: Command) => {
      const body = { name, kind: options.kind, ...monitorChanges(options), ...(options.disabled ? { enabled: false } : {}) };
      const created = await clientFor(command).request<MonitorInfo>('POST', path(deployment, 'monitors'), { json: body });
      emit(wantsJson(command), created, () => `created ${created.kind} monitor ${created.name} of ${created.deployment}: ${windowText(created.window)}, ${created.schedule_seconds === null ? 'on demand' : `every ${created.schedule_seconds} s`}\n`);
    });

  monitor
    .command('list <deployment>')
    .description("a deployment's monitors with their latest status")
    .action(async (deployment: string, _options: unknown, command: Command) => {
      const { monitors } = await clientFor(command).request<{ monitors: MonitorInfo[] }>('GET', path(deployment, 'monitors'));
      emit(wantsJson(command), monitors, () =>
        formatTable(monitors, [
          { header: 'name', value: (m) => m.name },
          { header: 'kind', value: (m) => m.kind },
          { header: 'window', value: (m) => windowText(m.window) },
          { header: 'schedule', value: (m) => (m.schedule_seconds === null ? 'on demand' : `${m.schedule_seconds} s`) },
          { header: 'enabled', value: (m) => (m.enabled ? 'yes' : 'no') },
          { header: 'status', value: (m) => m.latest?.status ?? '' },
          { header: 'last run', value: (m) => formatTime(m.last_run_at) },
        ]),
      );
    });

  monitor
    .command('run <deployment> <name>')
    .description('run a monitor now and print its result')
    .action(async (deployment: string, name: string, _options: unknown, command: Command) => {
      const result = await clientFor(command).request<ResultInfo>('POST', path(deployment, 'monitors', name, 'run'));
      emit(wantsJson(command), result, () => formatResult(result));
    });

  monitor
    .command('results <deployment> [name]')
    .description("a monitor's results newest first; without a name, the latest result of each monitor of --kind")
    .option('--kind <kind>', 'without a name: drift | quality | performance | concept', 'drift')
    .option('--since <time>', 'results computed at or after (ms since epoch or ISO 8601)')
    .option('--limit <n>', 'at most this many results', '20')
    .option('--latest', 'only the newest result, in full')
    .action(async (deployment: string, name: string | undefined, options: { kind: string; since?: string; limit: string; latest?: boolean }, command: Command) => {
      const client = clientFor(command);
      const query = { since: options.since, limit: options.latest ? '1' : options.limit };
      const results = name
        ? (await client.request<{ results: ResultInfo[] }>('GET', path(deployment, 'monitors', name, 'results'), { query })).results
        : options.latest
          ? (await client.request<{ latest: ResultInfo[] }>('GET', path(deployment, options.kind), { query })).latest
          : (await client.request<{ history: ResultInfo[] }>('GET', path(deployment, options.kind), { query })).history;
      emit(wantsJson(command), results, () =>
        options.latest
          ? results.map(formatResult).join('\n')
          : formatTable(results, [
            { header: 'computed', value: (r) => formatTime(r.computed_at) },
            { header: 'monitor', value: (r) => r.monitor },
            { header: 'kind', value: (r) => r.kind },
            { header: 'status', value: (r) => r.status },
            { header: 'requests', value: (r) => r.rows },
            { header: 'headline', value: (r) => headline(r) },
          ]),
      );
    });

  monitor
    .command('update <deployment> <name>')
    .description("change a monitor's window, schedule or settings, or enable or disable it")
    .option('--requests <n>', 'window: the newest N answered requests')
    .option('--seconds <s>', 'window: the requests of the last S seconds')
    .option('--every <s>', 'run every S seconds')
    .option('--on-demand', 'run only when asked (plinth monitor run)')
    .option('--config <json>', "the kind's settings as JSON (replaced whole)")
    .option('--enable', 'run it on its schedule again')
    .option('--disable', 'stop scheduled runs (runs on demand still work)')
    .action(async (deployment: string, name: string, options: MonitorFlags & { enable?: boolean; disable?: boolean }, command: Command) => {
      if (options.enable && options.disable) throw new PlinthError('INVALID_ARGUMENT', 'give --enable or --disable, not both');
      const body = { ...monitorChanges(options), ...(options.enable ? { enabled: true } : {}), ...(options.disable ? { enabled: false } : {}) };
      if (Object.keys(body).length === 0) throw new PlinthError('INVALID_ARGUMENT', 'nothing to change: give --requests, --seconds, --every, --on-demand, --config, --enable or --disable');
      const updated = await clientFor(command).request<MonitorInfo>('PATCH', path(deployment, 'monitors', name), { json: body });
      emit(wantsJson(command), updated, () => `updated ${updated.kind} monitor ${updated.name} of ${updated.deployment}: ${windowText(updated.window)}, ${updated.schedule_seconds === null ? 'on demand' : `every ${updated.schedule_seconds} s`}${updated.enabled ? '' : ', disabled'}\n`);
    });

  monitor
    .command('delete <deployment> <name>')
    .description('delete a monitor and its results')
    .action(async (deployment: string, name: string, _options: unknown, command: Command) => {
      const deleted = await clientFor(command).request<MonitorInfo>('DELETE', path(deployment, 'monitors', name));
      emit(wantsJson(command), deleted, () => `deleted monitor ${deleted.name} of ${deleted.deployment}\n`);
    });

  const reference = monitor.command('reference').description("a model version's reference profile (what drift and quality compare with)");

  reference
    .command('set <model> <version>')
    .description('set it from a dataset version, from a window of a deployment\'s traffic, or (neither) from the version\'s training dataset link')
    .option('--dataset <name@N>', 'a dataset version')
    .option('--prediction-column <column>', "with --dataset: the column holding the model's predictions")
    .option('--deployment <name>', "a deployment whose traffic (this version's answered requests) becomes the reference")
    .option('--since <time>', 'with --deployment: requests at or after (ms since epoch or ISO 8601)')
    .option('--until <time>', 'with --deployment: requests before')
    .option('--last <n>', 'with --deployment: the newest N requests')
    .action(async (model: string, version: string, options: { dataset?: string; predictionColumn?: string; deployment?: string; since?: string; until?: string; last?: string }, command: Command) => {
      const body = {
        ...(options.dataset !== undefined ? { dataset: options.dataset } : {}),
        ...(options.predictionColumn !== undefined ? { prediction_column: options.predictionColumn } : {}),
        ...(options.deployment !== undefined ? { deployment: options.deployment } : {}),
        ...(options.since !== undefined ? { since: options.since } : {}),
        ...(options.until !== undefined ? { until: options.until } : {}),
        ...(options.last !== undefined ? { last: positiveInteger(options.last, '--last') } : {}),
      };
      const record = await clientFor(command).request<{ model: string; version: number; source: unknown; summary: { rows: number; features: number; prediction: boolean } }>('PUT', `/api/v1/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}/reference`, { json: body });
      emit(wantsJson(command), record, () => `set the reference of ${record.model}@${record.version}: ${record.summary.rows} rows, ${record.summary.features} features${record.summary.prediction ? ' and the prediction' : ''} from ${JSON.stringify(record.source)}\n`);
    });

  reference
    .command('show <model> <version>')
    .description('where the reference came from and, per feature, counts, range or top categories')
    .action(async (model: string, version: string, _options: unknown, command: Command) => {
      const record = await clientFor(command).request<{ model: string; version: number; source: unknown; created_at: number; created_by: string; summary: { rows: number }; profile: { features: Array<Record<string, any>>; prediction: Record<string, any> | null } }>('GET', `/api/v1/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}/reference`);
      emit(wantsJson(command), record, () => {
        const rows = [...record.profile.features, ...(record.profile.prediction ? [{ ...record.profile.prediction, name: '(prediction)' }] : [])];
        return formatRecord({ model: `${record.model}@${record.version}`, source: record.source, rows: record.summary.rows, created: formatTime(record.created_at), by: record.created_by }) + '\n' + formatTable(rows, [
          { header: 'feature', value: (f) => f.name },
          { header: 'type', value: (f) => f.type },
          { header: 'count', value: (f) => f.count },
          { header: 'missing', value: (f) => f.missing },
          { header: 'range / categories', value: (f) => (f.min !== undefined ? `${number(f.min)} … ${number(f.max)}${f.sampled ? ` (sample of ${f.sample_size})` : ''}` : f.top ? f.top.slice(0, 5).map((t: { value: string; count: number }) => `${t.value}:${t.count}`).join(' ') + (f.categories > 5 ? ` … (${f.categories})` : '') : '') },
        ]);
      });
    });
}

/** One line per result in listings: the kind's headline figure. */
function headline(r: ResultInfo): string {
  const m = r.metrics ?? {};
  if (r.status === 'error') return r.result?.error?.message ?? '';
  if (r.kind === 'drift' && m['drift.share'] !== undefined) return `share ${number(m['drift.share'])} (${m['drift.drifted_features']} drifted)`;
  if (r.kind === 'quality' && m['quality.anomaly_rate'] !== undefined) return `anomaly rate ${number(m['quality.anomaly_rate'])}, missing rate ${number(m['quality.missing_rate'])}`;
  return r.result?.reason ?? '';
}
