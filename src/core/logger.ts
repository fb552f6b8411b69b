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
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A request's logger: a pino child of `parent` with `bindings`, made on first use at an enabled
 * level. Its methods live on the prototype, so making one per request is one small object.
 */
class LazyChildLogger {
  readonly #parent: Logger;
  readonly #bindings: Record<string, unknown>;
  readonly #options: { level?: string };
  #child: Logger | undefined;

  constructor(parent: Logger, bindings: Record<string, unknown>, options: { level?: string }) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #real(): Logger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options));
  }

  #log(level: Level, args: unknown[]): void {
    if (this.#child === undefined) {
      const own = this.#options.level;
      const enabled = own === undefined ? this.#parent.isLevelEnabled(level) : this.#parent.levels.values[level]! >= this.#parent.levels.values[own]!;
      if (!enabled) return;
    }
    (this.#real()[level] as LogMethod)(...args);
  }

  get level(): string {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.#real().level = level;
  }

  fatal(...args: unknown[]): void { this.#log('fatal', args); }
  error(...args: unknown[]): void { this.#log('error', args); }
  warn(...args: unknown[]): void { this.#log('warn', args); }
  info(...args: unknown[]): void { this.#log('info', args); }
  debug(...args: unknown[]): void { this.#log('debug', args); }
  trace(...args: unknown[]): void { this.#log('trace', args); }
  silent(): void {}

  isLevelEnabled(level: string): boolean {
    return this.#child !== undefined || this.#options.level !== undefined ? this.#real().isLevelEnabled(level) : this.#parent.isLevelEnabled(level);
  }

  child(bindings: Record<string, unknown>, options?: object): Logger {
    return this.#real().child(bindings, options);
  }
}

/**
 * A per-request child of `parent` that is created only when something is logged at an enabled
 * level. The server gives every request its own logger (bound to the request id); creating a pino
 * child costs about a microsecond (bindings serialised, redaction set up), and at the usual levels
 * most requests never log, so it is made on first use. Behaves as `parent.child(bindings, options)`.
 */
export function lazyChildLogger(parent: Logger, bindings: Record<string, unknown>, options: { level?: string } = {}): Logger {
  return new LazyChildLogger(parent, bindings, options) as unknown as Logger;
}
