// `plinth pipeline apply|list|show|run|history|delete`: register pipeline definitions (YAML files),
// read them, start runs (optionally waiting, with one line per step as it changes) and read their
// history. Runs execute on the server; a run that ends other than succeeded exits 1 with --wait.
import fs from 'node:fs';
import type { Command } from 'commander';
import { PlinthError } from '../../core/index.js';
import { clientFor, wantsJson } from '../context.js';
import { emit, formatRecord, formatTable, formatTime } from '../output.js';

interface StepView {
  id: string;
  kind: string;
  status: string;
  cached: boolean;
  duration_ms: number | null;
  outputs: Record<string, unknown> | null;
  log: string;
  error: string | null;
}

interface RunView {
  id: string;
  pipeline: string;
  number: number;
  trigger: string;
  status: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  tracking_run_id: string | null;
  error: string | null;
  lineage?: {
    datasets: Array<{ reference: string }>;
    tracking_run_id: string | null;
    model_versions: Array<{ reference: string }>;
    deployments: Array<{ deployment: string; model: string; revision: number }>;
  } | null;
  steps: StepView[];
}

interface PipelineView {
  name: string;
  description: string;
  triggers: Array<{ type: string; cron?: string; rule?: string; deployment?: string; metric?: string }>;
  steps: Array<{ id: string; kind: string; needs: string[] }>;
  created_at: number;
  updated_at: number;
  next_scheduled_at: number | null;
  last_run: RunView | null;
}

const POLL_MS = 500;

function triggerText(t: PipelineView['triggers'][number]): string {
  if (t.type === 'schedule') return `schedule ${t.cron}`;
  const parts = [t.rule !== undefined ? `rule ${t.rule}` : '', t.deployment !== undefined ? `deployment ${t.deployment}` : '', t.metric !== undefined ? `metric ${t.metric}` : ''].filter((p) => p !== '');
  return `on alert (${parts.join(', ')})`;
}

function seconds(ms: number | null): string {
  return ms === null ? '' : `${(ms / 1000).toFixed(1)} s`;
}

function stepLine(step: StepView): string {
  return `  ${step.id} (${step.kind}): ${step.status}${step.cached ? ' (cached)' : ''}${step.duration_ms !== null ? ` in ${seconds(step.duration_ms)}` : ''}${step.error ? ` — ${step.error}` : ''}`;
}

function lineageText(run: RunView): string {
  const l = run.lineage;
  if (!l) return '';
  const parts = [
    ...l.datasets.map((d) => `dataset ${d.reference}`),
    ...(l.tracking_run_id ? [`run ${l.tracking_run_id}`] : []),
    ...l.model_versions.map((m) => `model ${m.reference}`),
    ...l.deployments.map((d) => `deployment ${d.deployment} (canary of ${d.model})`),
  ];
  return parts.length > 0 ? `lineage: ${parts.join(' → ')}\n` : '';
}

function runText(run: RunView, withLogs: boolean): string {
  let text = `run ${run.number} of ${run.pipeline} (${run.trigger}): ${run.status}${run.error ? ` — ${run.error}` : ''}\n`;
  for (const step of run.steps) {
    text += stepLine(step) + '\n';
    if (withLogs && step.log) text += step.log.split('\n').map((l) => `    | ${l}`).join('\n') + '\n';
  }
  return text + lineageText(run);
}

export function registerPipelineCommands(program: Command): void {
  const pipeline = program.command('pipeline').description('pipelines: declared in YAML, run by hand, on a schedule or on an alert');

  pipeline
    .command('apply <file>')
    .description('create a pipeline from a YAML file, or update the pipeline with its name')
    .action(async (file: string, _options: unknown, command: Command) => {
      let yaml: string;
      try {
        yaml = fs.readFileSync(file, 'utf8');
      } catch (error) {
        throw new PlinthError('INVALID_ARGUMENT', `cannot read ${file}: ${(error as Error).message}`);
      }
      const reply = await clientFor(command).request<{ created: boolean; pipeline: PipelineView }>('POST', '/api/v1/pipelines', { json: { yaml } });
      emit(wantsJson(command), reply, () => `${reply.created ? 'created' : 'updated'} pipeline ${reply.pipeline.name}: ${reply.pipeline.steps.map((s) => s.id).join(' → ')}\n`);
    });

  pipeline
    .command('list')
    .description('list pipelines with their triggers and last run')
    .action(async (_options: unknown, command: Command) => {
      const { pipelines } = await clientFor(command).request<{ pipelines: PipelineView[] }>('GET', '/api/v1/pipelines');
      emit(wantsJson(command), pipelines, () =>
        formatTable(pipelines, [
          { header: 'name', value: (p) => p.name },
          { header: 'steps', value: (p) => String(p.steps.length) },
          { header: 'triggers', value: (p) => ['manual', ...p.triggers.map(triggerText)].join('; ') },
          { header: 'last run', value: (p) => (p.last_run ? `${p.last_run.number} ${p.last_run.status}` : '') },
          { header: 'finished', value: (p) => formatTime(p.last_run?.finished_at ?? null) },
        ]),
      );
    });

  pipeline
    .command('show <name>')
    .description('show a pipeline: steps in run order, triggers, next scheduled run, last run')
    .action(async (name: string, _options: unknown, command: Command) => {
      const p = await clientFor(command).request<PipelineView>('GET', `/api/v1/pipelines/${encodeURIComponent(name)}`);
      emit(wantsJson(command), p, () =>
        formatRecord({
          name: p.name, description: p.description, triggers: ['manual', ...p.triggers.map(triggerText)].join('; '),
          'next scheduled': formatTime(p.next_scheduled_at), updated: formatTime(p.updated_at),
          'last run': p.last_run ? `${p.last_run.number} ${p.last_run.status}` : 'none',
        }) +
        formatTable(p.steps, [
          { header: 'step', value: (s) => s.id },
          { header: 'kind', value: (s) => s.kind },
          { header: 'needs', value: (s) => s.needs.join(', ') },
        ]),
      );
    });

  pipeline
    .command('run <name>')
    .description('start a run; with --wait, follow it step by step until it ends')
    .option('--wait', 'wait for the run to end, printing each step as it changes', false)
    .option('--logs', 'with --wait, print the steps\' logs at the end', false)
    .action(async (name: string, options: { wait: boolean; logs: boolean }, command: Command) => {
      const client = clientFor(command);
      const json = wantsJson(command);
      const started = await client.request<RunView>('POST', `/api/v1/pipelines/${encodeURIComponent(name)}/runs`);
      if (!options.wait) {
        emit(json, started, () => `started run ${started.number} of ${name} (${started.id})\n`);
        return;
      }
      if (!json) process.stdout.write(`run ${started.number} of ${name} started\n`);
      const seen = new Map<string, string>();
      let run: RunView;
      for (;;) {
        run = await client.request<RunView>('GET', `/api/v1/pipelines/${encodeURIComponent(name)}/runs/${started.number}`);
        if (!json) {
          for (const step of run.steps) {
            const state = `${step.status}${step.cached ? '+cached' : ''}`;
            if (seen.get(step.id) !== state && step.status !== 'pending') {
              seen.set(step.id, state);
              process.stdout.write(stepLine(step) + '\n');
            }
          }
        }
        if (run.status !== 'queued' && run.status !== 'running') break;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      emit(json, run, () => `run ${run.number}: ${run.status}${run.error ? ` — ${run.error}` : ''}\n` + lineageText(run) + (options.logs ? runText(run, true) : ''));
      if (run.status !== 'succeeded') process.exitCode = 1;
    });

  pipeline
    .command('history <name>')
    .description('the runs of a pipeline, newest first; --run N shows one run with its steps, logs and lineage')
    .option('--limit <n>', 'at most this many runs', '20')
    .option('--run <n>', 'show this run (number or id) in full')
    .action(async (name: string, options: { limit: string; run?: string }, command: Command) => {
      const client = clientFor(command);
      if (options.run !== undefined) {
        const run = await client.request<RunView>('GET', `/api/v1/pipelines/${encodeURIComponent(name)}/runs/${encodeURIComponent(options.run)}`);
        emit(wantsJson(command), run, () => runText(run, true));
        return;
      }
      if (!/^[0-9]+$/.test(options.limit) || Number(options.limit) < 1) throw new PlinthError('INVALID_ARGUMENT', '--limit must be a positive integer');
      const { runs } = await client.request<{ runs: Array<RunView & { steps: Array<{ id: string; status: string; cached: boolean }> }> }>('GET', `/api/v1/pipelines/${encodeURIComponent(name)}/runs?limit=${Number(options.limit)}`);
      emit(wantsJson(command), runs, () =>
        formatTable(runs, [
          { header: 'run', value: (r) => String(r.number) },
          { header: 'trigger', value: (r) => r.trigger },
          { header: 'status', value: (r) => r.status },
          { header: 'started', value: (r) => formatTime(r.started_at) },
          { header: 'took', value: (r) => (r.started_at !== null && r.finished_at !== null ? seconds(r.finished_at - r.started_at) : '') },
          { header: 'steps', value: (r) => r.steps.map((s) => `${s.id}:${s.status}${s.cached ? '*' : ''}`).join(' ') },
          { header: 'error', value: (r) => (r.error ?? '').slice(0, 80) },
        ]),
      );
    });

  pipeline
    .command('delete <name>')
    .description('delete a pipeline and its run history (models, datasets and tracking runs stay)')
    .action(async (name: string, _options: unknown, command: Command) => {
      const reply = await clientFor(command).request<{ deleted: string; runs: number }>('DELETE', `/api/v1/pipelines/${encodeURIComponent(name)}`);
      emit(wantsJson(command), reply, () => `deleted pipeline ${reply.deleted} and ${reply.runs} runs\n`);
    });
}
