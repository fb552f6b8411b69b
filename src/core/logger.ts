// Structured logging with pino. Secrets never reach the log: authorization headers, tokens and
// fields named like secrets are redacted.
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths pino replaces with "[redacted]" wherever they appear in a log object. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'password',
  '*.password',
];

/** Options for the platform logger (also handed to Fastify). */
export function loggerOptions(level: string): LoggerOptions {
  return { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
}

/** A standalone logger, for code that runs outside a request. */
export function createLogger(level = 'info'): Logger {
  return pino(loggerOptions(level));
}

type LogMethod = (...args: unknown[]) => void;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/**
 * A per-request child of `parent` that is created only when something is logged at an enabled
 * level. The server gives every request its own logger (bound to the request id); creating a pino
 * child costs about a microsecond (bindings serialised, redaction set up), and at the usual levels
 * most requests never log, so it is made on first use. Behaves as `parent.child(bindings, options)`.
 */
export function lazyChildLogger(parent: Logger, bindings: Record<string, unknown>, options: { level?: string } = {}): Logger {
  let child: Logger | undefined;
  const real = (): Logger => (child ??= parent.child(bindings, options));
  const threshold = options.level === undefined ? undefined : parent.levels.values[options.level];
  const enabled = (level: string): boolean => child !== undefined || (threshold === undefined ? parent.isLevelEnabled(level) : parent.levels.values[level]! >= threshold);
  const logger: Record<string, unknown> = {
    child: (more: Record<string, unknown>, moreOptions?: object) => real().child(more, moreOptions),
    isLevelEnabled: (level: string) => (child ?? (threshold === undefined ? parent : real())).isLevelEnabled(level),
    silent: () => {},
  };
  for (const level of LOG_LEVELS) {
    logger[level] = ((...args: unknown[]) => {
      if (enabled(level)) (real()[level] as LogMethod)(...args);
    }) satisfies LogMethod;
  }
  Object.defineProperty(logger, 'level', {
    get: () => child?.level ?? options.level ?? parent.level,
    set: (level: string) => { real().level = level; },
    enumerable: true,
  });
  return logger as unknown as Logger;
}
