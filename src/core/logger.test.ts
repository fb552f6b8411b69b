// The lazy per-request logger writes what a pino child would, and only at enabled levels.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { lazyChildLogger, loggerOptions } from './logger.js';

function capture(level: string): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino(loggerOptions(level), stream), lines };
}

describe('lazyChildLogger', () => {
  it('logs with the bindings at enabled levels only, as a pino child does', async () => {
    const { logger, lines } = capture('warn');
    const child = lazyChildLogger(logger, { reqId: 'r-1' });
    child.info({ a: 1 }, 'not written');
    child.debug('not written either');
    child.warn({ token: 'secret-value', b: 2 }, 'written');
    child.error(new Error('boom'), 'failed');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!.reqId, 'r-1');
    assert.equal(lines[0]!.msg, 'written');
    assert.equal(lines[0]!.b, 2);
    assert.equal(lines[0]!.token, '[redacted]');
    assert.equal(lines[1]!.level, 50);
    assert.equal((lines[1]!.err as { message: string }).message, 'boom');
    assert.equal(child.level, 'warn');
  });

  it('honours a level of its own and passes bindings to grandchildren', async () => {
    const { logger, lines } = capture('info');
    const quiet = lazyChildLogger(logger, { reqId: 'r-2' }, { level: 'error' });
    quiet.warn('below the route level');
    assert.equal(quiet.level, 'error');
    const chatty = lazyChildLogger(logger, { reqId: 'r-3' });
    chatty.child({ step: 'x' }).info('from a grandchild');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(lines.map((l) => [l.reqId, l.step, l.msg]), [['r-3', 'x', 'from a grandchild']]);
    assert.equal(chatty.isLevelEnabled('debug'), false);
    assert.equal(chatty.isLevelEnabled('info'), true);
  });
});
