// `plinth drift` and `plinth report drift`: offline comparison of two CSV/Parquet files (no server),
// as a table, as JSON, or as a self-contained HTML report; and `plinth report drift <deployment>`,
// which asks the server for the report of a deployment's live traffic against its reference. The
// exit code does not depend on the verdict; scripts read `dataset.drifted` from --json.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { PlinthError } from '../../core/index.js';
import {
  compareWindows,
  CORRECTIONS,
  DRIFT_TEST_NAMES,
  isDriftTestName,
  readWindowFile,
  renderDriftReportHtml,
  reportHistograms,
  type Correction,
  type DriftOptions,
  type DriftReport,
  type DriftTestName,
  type FeatureDrift,
} from '../../monitor/index.js';
import { clientFor, wantsJson } from '../context.js';
import { emit, formatTable } from '../output.js';
import { collect } from '../options.js';

interface DriftCommandOptions {
  reference: string;
  current: string;
  test: string[];
  threshold: string[];
  driftShare?: string;
  correction?: string;
}

function pairs(values: string[], flag: string): [string, string][] {
  return values.map((entry) => {
    const at = entry.lastIndexOf('=');
    if (at <= 0 || at === entry.length - 1) throw new PlinthError('INVALID_ARGUMENT', `${flag} expects column=value, got ${JSON.stringify(entry.slice(0, 100))}`);
    return [entry.slice(0, at), entry.slice(at + 1)];
  });
}

/** Parses the shared options into DriftOptions. @throws PlinthError INVALID_ARGUMENT */
function driftOptions(options: DriftCommandOptions): DriftOptions {
  const tests: Record<string, DriftTestName> = {};
  for (const [column, test] of pairs(options.test, '--test')) {
    if (!isDriftTestName(test)) throw new PlinthError('INVALID_ARGUMENT', `--test ${column}=${test}: unknown test; use one of ${DRIFT_TEST_NAMES.join(', ')}`);
    tests[column] = test;
  }
  const thresholds: Record<string, number> = {};
  for (const [column, text] of pairs(options.threshold, '--threshold')) {
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) throw new PlinthError('INVALID_ARGUMENT', `--threshold ${column}=${text}: not a number ≥ 0`);
    thresholds[column] = value;
  }
  const result: DriftOptions = { tests, thresholds };
  if (options.driftShare !== undefined) result.driftShare = Number(options.driftShare);
  if (options.correction !== undefined) {
    if (!(CORRECTIONS as readonly string[]).includes(options.correction)) throw new PlinthError('INVALID_ARGUMENT', `--correction: use one of ${CORRECTIONS.join(', ')}`);
    result.correction = options.correction as Correction;
  }
  return result;
}

function withComparisonOptions(command: Command): Command {
  return command
    .option('--test <column=test>', `drift test for a column (${DRIFT_TEST_NAMES.join(', ')}); repeatable`, collect, [])
    .option('--threshold <column=value>', "a column's threshold (p-value or distance, per its test); repeatable", collect, [])
    .option('--drift-share <share>', 'share of drifted features at which the dataset drifts (default 0.5)')
    .option('--correction <method>', `multiple-testing correction on p-value tests: ${CORRECTIONS.join(', ')}`);
}

function withWindowOptions(command: Command): Command {
  return withComparisonOptions(
    command
      .requiredOption('--reference <file>', 'reference window: a CSV or Parquet file')
      .requiredOption('--current <file>', 'current window: a CSV or Parquet file'),
  );
}

const show = (x: number | null) => (x === null ? '' : Math.abs(x) >= 1e-4 || x === 0 ? String(Number(x.toPrecision(6))) : x.toExponential(4));

function verdictText(f: FeatureDrift): string {
  if (f.drifted === true) return 'DRIFT';
  if (f.drifted === false) return 'ok';
  return f.status.replaceAll('_', ' ');
}

function humanReport(report: DriftReport): string {
  const table = formatTable(report.features, [
    { header: 'feature', value: (f) => f.feature },
    { header: 'type', value: (f) => f.type },
    { header: 'test', value: (f) => f.test ?? '' },
    { header: 'statistic', value: (f) => (f.details.statistic_infinite === true ? 'inf' : show(f.statistic)) },
    { header: 'p-value', value: (f) => show(report.dataset.correction === 'none' ? f.p_value : f.adjusted_p_value) },
    { header: 'threshold', value: (f) => show(f.threshold) },
    { header: 'verdict', value: verdictText },
  ]);
  const notes = report.features.filter((f) => f.reason).map((f) => `  ${f.feature}: ${f.reason}`).join('\n');
  const d = report.dataset;
  const summary = d.drifted === null
    ? `dataset: no verdict (${d.reason})`
    : `dataset: ${d.drifted ? 'DRIFT' : 'no drift'}: ${d.drifted_features} of ${d.evaluated} features drifted (share ${show(d.share)}, threshold ${d.drift_share})`;
  return `${table}${notes ? `\n${notes}\n` : ''}\n${summary}\n`;
}

async function run(options: DriftCommandOptions): Promise<{ report: DriftReport; reference: Awaited<ReturnType<typeof readWindowFile>>; current: Awaited<ReturnType<typeof readWindowFile>> }> {
  const parsed = driftOptions(options);
  const [reference, current] = [await readWindowFile(options.reference), await readWindowFile(options.current)];
  return { report: compareWindows(reference, current, parsed), reference, current };
}

export function registerDriftCommands(program: Command): void {
  withWindowOptions(
    program
      .command('drift')
      .description('compare a current CSV/Parquet file with a reference one for data drift (offline, no server)'),
  ).action(async (options: DriftCommandOptions, command: Command) => {
    const { report } = await run(options);
    emit(wantsJson(command), report, () => humanReport(report));
  });

  const report = program.command('report').description('write reports');
  withComparisonOptions(
    report
      .command('drift [deployment]')
      .description("write a self-contained HTML drift report (histograms, statistics, verdicts): of a deployment's live traffic against its reference (from the server), or of two CSV/Parquet files (offline)")
      .option('--reference <file>', 'offline: reference window, a CSV or Parquet file')
      .option('--current <file>', 'offline: current window, a CSV or Parquet file')
      .option('--monitor <name>', "with a deployment: the drift monitor whose settings and window are used (default: its first drift monitor)")
      .option('--requests <n>', 'with a deployment: the newest N answered requests')
      .option('--seconds <s>', 'with a deployment: the requests of the last S seconds'),
  )
    .requiredOption('--out <file>', 'the HTML file to write')
    .action(async (deployment: string | undefined, options: Partial<DriftCommandOptions> & { out: string; monitor?: string; requests?: string; seconds?: string }, command: Command) => {
      if (deployment !== undefined) {
        await deploymentReport(deployment, options, command);
        return;
      }
      if (options.reference === undefined || options.current === undefined) {
        throw new PlinthError('INVALID_ARGUMENT', 'give a deployment name, or both --reference and --current files');
      }
      const files = options as DriftCommandOptions & { out: string };
      const result = await run(files);
      const html = renderDriftReportHtml({
        title: 'Data drift report',
        reference: path.basename(files.reference),
        current: path.basename(files.current),
        report: result.report,
        histograms: reportHistograms(result.report, result.reference, result.current),
        generatedAt: new Date(),
      });
      await fs.promises.writeFile(files.out, html);
      const d = result.report.dataset;
      emit(wantsJson(command), { out: files.out, dataset: d }, () => `wrote ${files.out}: ${d.drifted === null ? 'no verdict' : d.drifted ? 'dataset drift' : 'no dataset drift'} (${d.drifted_features} of ${d.evaluated} features drifted)\n`);
    });
}

function positiveInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw new PlinthError('INVALID_ARGUMENT', `${flag} must be a positive integer, got ${JSON.stringify(text.slice(0, 50))}`);
  return n;
}

/**
 * Downloads a deployment's drift report (GET /api/v1/deployments/{name}/drift/report) into --out,
 * through a temporary file so a failed download leaves nothing behind.
 * @throws PlinthError INVALID_ARGUMENT for file options or both window options; the server's codes
 */
async function deploymentReport(deployment: string, options: Partial<DriftCommandOptions> & { out: string; monitor?: string; requests?: string; seconds?: string }, command: Command): Promise<void> {
  const offline = ['reference', 'current'].filter((k) => options[k as 'reference' | 'current'] !== undefined);
  const tuning = (options.test?.length ?? 0) + (options.threshold?.length ?? 0) > 0 || options.driftShare !== undefined || options.correction !== undefined;
  if (offline.length > 0 || tuning) throw new PlinthError('INVALID_ARGUMENT', 'with a deployment, the report uses its drift monitor\'s settings: --reference, --current, --test, --threshold, --drift-share and --correction are for files');
  if (options.requests !== undefined && options.seconds !== undefined) throw new PlinthError('INVALID_ARGUMENT', 'give --requests or --seconds, not both');
  const query = new URLSearchParams();
  if (options.monitor !== undefined) query.set('monitor', options.monitor);
  if (options.requests !== undefined) query.set('requests', String(positiveInteger(options.requests, '--requests')));
  if (options.seconds !== undefined) query.set('seconds', String(positiveInteger(options.seconds, '--seconds')));
  const search = query.size > 0 ? `?${query.toString()}` : '';
  const partial = `${options.out}.part-${process.pid}`;
  try {
    const bytes = await clientFor(command).download(`/api/v1/deployments/${encodeURIComponent(deployment)}/drift/report${search}`, partial);
    await fs.promises.rename(partial, options.out);
    emit(wantsJson(command), { out: options.out, deployment, bytes }, () => `wrote ${options.out}: drift report of ${deployment} (${bytes} bytes)\n`);
  } finally {
    await fs.promises.rm(partial, { force: true });
  }
}
