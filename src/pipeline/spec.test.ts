// Pipeline definitions: run order (a topological order that keeps the file's order), inputs found
// through the nearest ancestor, triggers, alert matching, and refusals with INVALID_PIPELINE.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePipelineText, providerOf } from './spec.js';
import { alertMatches } from './triggers.js';

const invalid = (pattern: RegExp) => (e: any) => e.code === 'INVALID_PIPELINE' && pattern.test(e.message);

test('steps run in an order that respects needs, keeping the file order where it can', () => {
  const spec = parsePipelineText(`
name: p
steps:
  - { id: score, kind: evaluate, needs: fit }
  - { id: b, kind: dataset, dataset: other }
  - { id: fit, kind: train, needs: [a], label: y, task: binary, algo: gbdt }
  - { id: a, kind: dataset, dataset: data@2 }
`);
  // score waits for fit, fit for a; b is ready at once and keeps its place before them.
  assert.deepEqual(spec.steps.map((s) => s.id), ['b', 'a', 'fit', 'score']);
  assert.deepEqual(spec.steps.find((s) => s.id === 'score')!.needs, ['fit']);
  // The train step reads the table of its own ancestor a, not of b.
  assert.equal(providerOf(spec.steps, 'fit', 'table')!.id, 'a');
  assert.equal(providerOf(spec.steps, 'score', 'model')!.id, 'fit');
  assert.equal(providerOf(spec.steps, 'b', 'table'), undefined);
});

test('the nearest provider wins when two ancestors provide the same thing', () => {
  const spec = parsePipelineText(`
name: p
steps:
  - { id: d1, kind: dataset, dataset: one }
  - { id: d2, kind: dataset, dataset: two, needs: [d1] }
  - { id: fit, kind: train, needs: [d2], label: y, task: regression, algo: linear }
`);
  assert.equal(providerOf(spec.steps, 'fit', 'table')!.id, 'd2');
});

test('triggers: manual, cron schedules, alerts', () => {
  const spec = parsePipelineText(`
name: p
triggers:
  - manual
  - schedule: "*/10 * * * *"
  - on_alert: { rule: drift-high }
  - on_alert: { deployment: fraud, metric: drift.share }
steps:
  - { id: a, kind: command, argv: [echo] }
`);
  assert.deepEqual(spec.triggers, [
    { type: 'schedule', cron: '*/10 * * * *' },
    { type: 'alert', rule: 'drift-high' },
    { type: 'alert', deployment: 'fraud', metric: 'drift.share' },
  ]);
  const byRule = spec.triggers[1] as any;
  const byDeployment = spec.triggers[2] as any;
  assert.equal(alertMatches(byRule, { rule: 'drift-high', deployment: 'x', metric: 'm' }), true);
  assert.equal(alertMatches(byRule, { rule: 'other', deployment: 'x', metric: 'm' }), false);
  assert.equal(alertMatches(byDeployment, { rule: 'r', deployment: 'fraud', metric: 'drift.share' }), true);
  assert.equal(alertMatches(byDeployment, { rule: 'r', deployment: 'fraud', metric: 'accuracy' }), false);
  assert.equal(alertMatches(byDeployment, { rule: 'r', deployment: 'other', metric: 'drift.share' }), false);
  assert.equal(alertMatches({ type: 'alert', deployment: 'fraud' }, { rule: 'r', deployment: 'fraud', metric: 'anything' }), true);
});

test('bad definitions are refused with INVALID_PIPELINE', () => {
  assert.throws(() => parsePipelineText('[1, 2]'), invalid(/must hold a map/));
  assert.throws(() => parsePipelineText('name: p\nsteps: []'), invalid(/non-empty list/));
  assert.throws(() => parsePipelineText('name: p\nsteps:\n  - {id: a, kind: dataset, dataset: x}\n  - {id: a, kind: dataset, dataset: y}'), invalid(/used twice/));
  assert.throws(() => parsePipelineText('name: p\nsteps:\n  - {id: a, kind: dataset, dataset: x, needs: a}'), invalid(/needs itself/));
  assert.throws(() => parsePipelineText('name: p\nsteps:\n  - {id: a, kind: dataset, dataset: x}\n  - {id: c, kind: command, argv: []}'), invalid(/argv must be a list/));
  assert.throws(() => parsePipelineText('name: p\nsteps:\n  - {id: a, kind: dataset, dataset: x}\n  - {id: b, kind: register, model: m}'), invalid(/provides a model/));
  assert.throws(() => parsePipelineText('name: p\nsteps:\n  - {id: c, kind: command, argv: [x], output: m.onnx}\n  - {id: e, kind: evaluate, needs: c}'), invalid(/must be a train step/));
  assert.throws(() => parsePipelineText('name: p\ntriggers: [{on_alert: {}}]\nsteps:\n  - {id: a, kind: dataset, dataset: x}'), invalid(/needs a rule or a deployment/));
  assert.throws(() => parsePipelineText('name: p\ntriggers: [{hourly: true}]\nsteps:\n  - {id: a, kind: dataset, dataset: x}'), invalid(/unknown trigger "hourly"/));
  assert.throws(() => parsePipelineText('name: p\nsteps:\n  - {id: a, kind: dataset, dataset: x}\n  - {id: t, kind: train, needs: a, label: y, task: binary, algo: linear, categorical: [c]}'), invalid(/numeric features only/));
});

test('a command step with an output provides a model to register', () => {
  const spec = parsePipelineText('name: p\nsteps:\n  - {id: c, kind: command, argv: [python3, train.py], output: model.onnx}\n  - {id: r, kind: register, needs: c, model: m}');
  assert.equal(providerOf(spec.steps, 'r', 'model')!.id, 'c');
});
