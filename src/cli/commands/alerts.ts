// `plinth alerts rules create|list|show|update|delete` and `plinth alerts events [--rule] [--deployment] [--state]`.
import fs from 'node:fs';
import type { Command } from 'commander';
import { PlinthError } from '../../core/index.js';
import { clientFor, wantsJson } from '../context.js';
import { emit, formatRecord, formatTable, formatTime } from '../output.js';

interface AlertRule {
  id: string;
  name: string;
  deployment: string | null;
  metric: string;
  comparison: string;
  threshold: number;
  for_seconds: number;
  severity: string;
  webhook_url: string | null;
  webhook_secret_set: boolean;
  enabled: boolean;
  state: string;
  pending_since: number | null;
  created_at: number;
  created_by: string;
}

interface AlertEvent {
  id: number;
  rule: string;
  deployment: string | null;
  state: string;
  value: number | null;
  at: number;
  severity: string | null;
  payload: { summary?: string };
  delivery: { status: string; attempts: number; response_status: number | null; error: string | null } | null;
}

const SYMBOLS: Record<string, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=' };

function finiteNumber(text: string, option: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new PlinthError('INVALID_ARGUMENT', `${option} must be a number, got ${JSON.stringify(text)}`);
  return value;
}

function wholeSeconds(text: string, option: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) throw new PlinthError('INVALID_ARGUMENT', `${option} must be a whole number of seconds, got ${JSON.stringify(text)}`);
  return value;
}

/** The secret from --webhook-secret-file (one trailing newline dropped), so it stays out of the process list. */
function readSecretFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new PlinthError('INVALID_ARGUMENT', `cannot read --webhook-secret-file ${file}: ${(error as Error).message}`);
  }
}

function condition(rule: AlertRule): string {
  return `${rule.metric} ${SYMBOLS[rule.comparison] ?? rule.comparison} ${rule.threshold}${rule.for_seconds > 0 ? ` for ${rule.for_seconds}s` : ''}`;
}

function ruleRecord(rule: AlertRule): Record<string, unknown> {
  return {
    name: rule.name,
    deployment: rule.deployment ?? '(all)',
    condition: condition(rule),
    severity: rule.severity,
    webhook: rule.webhook_url ?? '',
    signed: rule.webhook_secret_set ? 'yes' : 'no',
    enabled: rule.enabled ? 'yes' : 'no',
    state: rule.state,
    pending_since: formatTime(rule.pending_since),
    created: `${formatTime(rule.created_at)} by ${rule.created_by}`,
  };
}

interface RuleOptions {
  deployment?: string;
  allDeployments?: boolean;
  metric?: string;
  comparison?: string;
  threshold?: string;
  forSeconds?: string;
  severity?: string;
  webhookUrl?: string;
  webhookSecret?: string;
  webhookSecretFile?: string;
  noWebhook?: boolean;
  enable?: boolean;
  disable?: boolean;
}

function ruleBody(options: RuleOptions): Record<string, unknown> {
  if (options.webhookSecret !== undefined && options.webhookSecretFile !== undefined) throw new PlinthError('INVALID_ARGUMENT', 'give --webhook-secret or --webhook-secret-file, not both');
  if (options.enable && options.disable) throw new PlinthError('INVALID_ARGUMENT', 'give --enable or --disable, not both');
  const secret = options.webhookSecretFile !== undefined ? readSecretFile(options.webhookSecretFile) : options.webhookSecret;
  return {
    ...(options.deployment !== undefined ? { deployment: options.deployment } : {}),
    ...(options.allDeployments ? { deployment: null } : {}),
    ...(options.metric !== undefined ? { metric: options.metric } : {}),
    ...(options.comparison !== undefined ? { comparison: options.comparison } : {}),
    ...(options.threshold !== undefined ? { threshold: finiteNumber(options.threshold, '--threshold') } : {}),
    ...(options.forSeconds !== undefined ? { for_seconds: wholeSeconds(options.forSeconds, '--for-seconds') } : {}),
    ...(options.severity !== undefined ? { severity: options.severity } : {}),
    ...(options.webhookUrl !== undefined ? { webhook_url: options.webhookUrl } : {}),
    ...(options.noWebhook ? { webhook_url: null } : {}),
    ...(secret !== undefined ? { webhook_secret: secret } : {}),
    ...(options.enable ? { enabled: true } : {}),
    ...(options.disable ? { enabled: false } : {}),
  };
}

export function registerAlertsCommands(program: Command): void {
  const alerts = program.command('alerts').description('alert rules on monitor metrics and rollouts, and their history');
  const rules = alerts.command('rules').description('create, list, show, change and delete alert rules');

  rules
    .command('create <name>')
    .description('create a rule: fires when METRIC COMPARISON THRESHOLD holds for --for-seconds')
    .requiredOption('--metric <metric>', 'a monitor metric (drift.share, quality.missing_rate, performance.accuracy …) or rollout.rolled_back')
    .requiredOption('--comparison <op>', 'gt | gte | lt | lte')
    .requiredOption('--threshold <number>', 'the value compared with')
    .option('--deployment <name>', 'only this deployment (default: every deployment, each with its own state)')
    .option('--for-seconds <n>', 'how long the condition must hold before firing', '0')
    .option('--severity <level>', 'info | warning | critical', 'warning')
    .option('--webhook-url <url>', 'http(s) URL POSTed on firing and resolved')
    .option('--webhook-secret <secret>', 'HMAC key of the X-Plinth-Signature header (16+ characters)')
    .option('--webhook-secret-file <path>', 'read the HMAC key from a file instead')
    .option('--disable', 'create it disabled')
    .action(async (name: string, options: RuleOptions, command: Command) => {
      const rule = await clientFor(command).request<AlertRule>('POST', '/api/v1/alerts/rules', { json: { name, ...ruleBody(options) } });
      emit(wantsJson(command), rule, () => formatRecord(ruleRecord(rule)));
    });

  rules
    .command('list')
    .description('list rules with their state')
    .action(async (_options: unknown, command: Command) => {
      const { rules: rows } = await clientFor(command).request<{ rules: AlertRule[] }>('GET', '/api/v1/alerts/rules');
      emit(wantsJson(command), rows, () =>
        formatTable(rows, [
          { header: 'name', value: (r) => r.name },
          { header: 'deployment', value: (r) => r.deployment ?? '(all)' },
          { header: 'condition', value: condition },
          { header: 'severity', value: (r) => r.severity },
          { header: 'state', value: (r) => (r.enabled ? r.state : 'disabled') },
          { header: 'webhook', value: (r) => (r.webhook_url ? (r.webhook_secret_set ? 'signed' : 'unsigned') : '') },
        ]),
      );
    });

  rules
    .command('show <name>')
    .description('show one rule (never its webhook secret)')
    .action(async (name: string, _options: unknown, command: Command) => {
      const rule = await clientFor(command).request<AlertRule>('GET', `/api/v1/alerts/rules/${encodeURIComponent(name)}`);
      emit(wantsJson(command), rule, () => formatRecord(ruleRecord(rule)));
    });

  rules
    .command('update <name>')
    .description('change a rule; the options not given stay as they are')
    .option('--metric <metric>', 'the metric')
    .option('--comparison <op>', 'gt | gte | lt | lte')
    .option('--threshold <number>', 'the value compared with')
    .option('--deployment <name>', 'only this deployment')
    .option('--all-deployments', 'every deployment')
    .option('--for-seconds <n>', 'how long the condition must hold before firing')
    .option('--severity <level>', 'info | warning | critical')
    .option('--webhook-url <url>', 'http(s) URL POSTed on firing and resolved')
    .option('--no-webhook', 'remove the webhook (and its secret)')
    .option('--webhook-secret <secret>', 'HMAC key of the X-Plinth-Signature header')
    .option('--webhook-secret-file <path>', 'read the HMAC key from a file instead')
    .option('--enable', 'enable the rule')
    .option('--disable', 'disable the rule')
    .action(async (name: string, options: RuleOptions & { webhook?: boolean }, command: Command) => {
      // commander's --no-webhook sets webhook=false (and webhook=true by default).
      const body = ruleBody({ ...options, noWebhook: options.webhook === false });
      if (Object.keys(body).length === 0) throw new PlinthError('INVALID_ARGUMENT', 'nothing to change: give at least one option');
      const rule = await clientFor(command).request<AlertRule>('PATCH', `/api/v1/alerts/rules/${encodeURIComponent(name)}`, { json: body });
      emit(wantsJson(command), rule, () => formatRecord(ruleRecord(rule)));
    });

  rules
    .command('delete <name>')
    .description('delete a rule with its history and pending webhook retries')
    .action(async (name: string, _options: unknown, command: Command) => {
      const rule = await clientFor(command).request<AlertRule>('DELETE', `/api/v1/alerts/rules/${encodeURIComponent(name)}`);
      emit(wantsJson(command), rule, () => `deleted alert rule ${rule.name}\n`);
    });

  alerts
    .command('events')
    .description('alert history, newest first')
    .option('--rule <name>', 'only this rule')
    .option('--deployment <name>', 'only this deployment')
    .option('--state <state>', 'firing | resolved | pending | inactive')
    .option('--limit <n>', 'at most this many events', '100')
    .action(async (options: { rule?: string; deployment?: string; state?: string; limit: string }, command: Command) => {
      const { events } = await clientFor(command).request<{ events: AlertEvent[] }>('GET', '/api/v1/alerts/events', {
        query: { rule: options.rule, deployment: options.deployment, state: options.state, limit: options.limit },
      });
      emit(wantsJson(command), events, () =>
        formatTable(events, [
          { header: 'id', value: (e) => e.id },
          { header: 'at', value: (e) => formatTime(e.at) },
          { header: 'rule', value: (e) => e.rule },
          { header: 'deployment', value: (e) => e.deployment },
          { header: 'state', value: (e) => e.state },
          { header: 'severity', value: (e) => e.severity },
          { header: 'value', value: (e) => e.value },
          { header: 'webhook', value: (e) => (e.delivery ? `${e.delivery.status} (${e.delivery.attempts} attempt${e.delivery.attempts === 1 ? '' : 's'})` : '') },
        ]),
      );
    });
}
