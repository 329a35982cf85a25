/**
 * The one logger: JSON lines on stdout, one object per line, with a level threshold and bound fields.
 * Secrets never reach it: callers log settings only through `settings/`'s redaction, and errors through
 * `describeError`, which keeps the message and the error chain but no stack unless the level is debug.
 */
export const logLevels = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof logLevels)[number]

export type LogFields = Readonly<Record<string, unknown>>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
  /** A logger that adds `fields` to every line, e.g. `{ connectorId }`. */
  child(fields: LogFields): Logger
  readonly level: LogLevel
}

export type LineWriter = (line: string) => void

const writeToStdout: LineWriter = (line) => {
  process.stdout.write(line + '\n')
}

export function createLogger(options: { level: LogLevel; write?: LineWriter; fields?: LogFields }): Logger {
  const threshold = logLevels.indexOf(options.level)
  const write = options.write ?? writeToStdout
  const bound = options.fields ?? {}
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (logLevels.indexOf(level) < threshold) return
    write(JSON.stringify({ time: new Date().toISOString(), level, message, ...bound, ...fields }, jsonSafe))
  }
  return {
    level: options.level,
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (fields) => createLogger({ level: options.level, write, fields: { ...bound, ...fields } }),
  }
}

/** A logger that drops everything; for tools and tests that do not care about logs. */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => {} })

/** Positions are bigint end to end; JSON has no bigint, so they are logged as strings. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Error) return describeError(value)
  return value
}

export interface ErrorDescription {
  readonly name: string
  readonly message: string
  readonly code?: unknown
  readonly cause?: ErrorDescription | string
}

/** A loggable view of an error chain: name, message, code and causes; never the stack (it is noise in JSON logs). */
export function describeError(error: unknown, depth = 0): ErrorDescription | string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as { code?: unknown }).code
  const cause = depth < 4 && error.cause !== undefined ? describeError(error.cause, depth + 1) : undefined
  return {
    name: error.name,
    message: error.message,
    ...(code === undefined ? {} : { code }),
    ...(cause === undefined ? {} : { cause }),
  }
}
