/**
 * The command line: flags, their environment twins, defaults and the help text. Pure: it turns argv and env into a
 * `CommandLine` value and never exits, prints or reads files, so every rule here is unit-tested.
 */
import { logLevels, type LogLevel } from './observability/logger.ts'

export interface ServeOptions {
  readonly host: string
  readonly port: number
  readonly kurrentdb: string
  /** undefined only with `insecure` */
  readonly apiCredentials: { readonly user: string; readonly password: string } | undefined
  readonly insecure: boolean
  readonly dataProtection: { readonly token: string } | { readonly tokenFile: string } | undefined
  readonly connectorsFile: string | undefined
  readonly logLevel: LogLevel
  /** A connector with work whose confirmed position has not moved for this long is reported stalled. */
  readonly stallAfterMs: number
  /** With it, /health/ready answers 503 while a connector is stalled. */
  readonly readyFailsOnStall: boolean
  /** A connector whose checkpoint commits have failed for this long stops with the reason. */
  readonly commitFailureLimitMs: number
}

export type CommandLine =
  | { readonly command: 'version' }
  | { readonly command: 'help' }
  | { readonly command: 'serve'; readonly options: ServeOptions }
  | { readonly command: 'invalid'; readonly message: string }

interface FlagSpec {
  readonly name: string
  readonly env: string
  readonly takesValue: boolean
  readonly valueName?: string
  readonly help: string
}

export const defaultHost = '0.0.0.0'
export const defaultPort = 2114
export const defaultKurrentDb = 'kurrentdb://localhost:2113?tls=false'
export const defaultStallAfterMs = 60_000
/**
 * Long enough to ride out a KurrentDB restart or leader election (Kafka keeps receiving meanwhile; only the
 * replay after a crash grows), short enough that a connector that can never checkpoint again says so.
 */
export const defaultCommitFailureLimitMs = 60_000

const flagSpecs: readonly FlagSpec[] = [
  { name: 'host', env: 'KAFKA_SINK_HOST', takesValue: true, valueName: 'H', help: `address the HTTP API listens on (default ${defaultHost})` },
  { name: 'port', env: 'KAFKA_SINK_PORT', takesValue: true, valueName: 'N', help: `HTTP API port, 0 picks a free one (default ${defaultPort})` },
  { name: 'kurrentdb', env: 'KAFKA_SINK_KURRENTDB', takesValue: true, valueName: 'CONN', help: `KurrentDB connection string (default ${defaultKurrentDb})` },
  { name: 'api-user', env: 'KAFKA_SINK_API_USER', takesValue: true, valueName: 'U', help: 'user name the management API requires (basic auth)' },
  { name: 'api-password', env: 'KAFKA_SINK_API_PASSWORD', takesValue: true, valueName: 'P', help: 'password the management API requires (basic auth)' },
  { name: 'insecure', env: 'KAFKA_SINK_INSECURE', takesValue: false, help: 'serve the management API without authentication (local development only)' },
  { name: 'data-protection-token', env: 'KAFKA_SINK_DATA_PROTECTION_TOKEN', takesValue: true, valueName: 'T', help: 'secret the connector passwords are encrypted with; it must never change' },
  { name: 'data-protection-token-file', env: 'KAFKA_SINK_DATA_PROTECTION_TOKEN_FILE', takesValue: true, valueName: 'F', help: 'file holding the data-protection token' },
  { name: 'connectors', env: 'KAFKA_SINK_CONNECTORS', takesValue: true, valueName: 'FILE', help: 'YAML or JSON file of connectors to create or update at start-up' },
  { name: 'log-level', env: 'KAFKA_SINK_LOG_LEVEL', takesValue: true, valueName: 'LEVEL', help: `one of ${logLevels.join('|')} (default info)` },
  { name: 'stall-after', env: 'KAFKA_SINK_STALL_AFTER', takesValue: true, valueName: 'DURATION', help: `report a connector stalled when it has events to deliver and its confirmed position has not moved for this long, e.g. 90s, 2m, 500ms (default ${defaultStallAfterMs / 1000}s)` },
  { name: 'ready-fails-on-stall', env: 'KAFKA_SINK_READY_FAILS_ON_STALL', takesValue: false, help: '/health/ready answers 503 while a connector is stalled' },
  { name: 'commit-failure-limit', env: 'KAFKA_SINK_COMMIT_FAILURE_LIMIT', takesValue: true, valueName: 'DURATION', help: `stop a connector whose checkpoint commits have failed for this long (default ${defaultCommitFailureLimitMs / 1000}s)` },
]

export function helpText(version: string): string {
  const width = Math.max(...flagSpecs.map((flag) => flagLabel(flag).length))
  const lines = flagSpecs.map((flag) => `  ${flagLabel(flag).padEnd(width)}  ${flag.help} [env ${flag.env}]`)
  return [
    `kafka-sink ${version}: streams KurrentDB events to Kafka, managed through KurrentDB's connectors HTTP API`,
    '',
    'Usage:',
    '  kafka-sink [serve] [--host H] [--port N] [--kurrentdb CONN]',
    '                     [--api-user U --api-password P | --insecure]',
    '                     [--data-protection-token T | --data-protection-token-file F]',
    '                     [--connectors FILE] [--log-level debug|info|warn|error]',
    '                     [--stall-after DURATION] [--ready-fails-on-stall] [--commit-failure-limit DURATION]',
    '  kafka-sink --version | --help',
    '',
    'Options (a flag overrides its environment variable):',
    ...lines,
    `  ${'--version'.padEnd(width)}  print the version and exit`,
    `  ${'--help'.padEnd(width)}  print this help and exit`,
    '',
  ].join('\n')
}

function flagLabel(flag: FlagSpec): string {
  return flag.takesValue ? `--${flag.name} ${flag.valueName}` : `--${flag.name}`
}

class CommandLineError extends Error {}

export function parseCommandLine(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CommandLine {
  try {
    return parseOrThrow(argv, env)
  } catch (error) {
    if (error instanceof CommandLineError) return { command: 'invalid', message: error.message }
    throw error
  }
}

function parseOrThrow(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CommandLine {
  const fromFlags = new Map<string, string>()
  let sawServe = false
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!
    if (argument === '--version' || argument === '-v') return { command: 'version' }
    if (argument === '--help' || argument === '-h') return { command: 'help' }
    if (argument === 'serve' && !sawServe && fromFlags.size === 0) {
      sawServe = true
      continue
    }
    if (!argument.startsWith('--')) throw new CommandLineError(`unexpected argument '${argument}'`)
    const equals = argument.indexOf('=')
    const name = argument.slice(2, equals === -1 ? undefined : equals)
    const spec = flagSpecs.find((flag) => flag.name === name)
    if (spec === undefined) throw new CommandLineError(`unknown flag '--${name}'`)
    if (fromFlags.has(name)) throw new CommandLineError(`flag '--${name}' given twice`)
    if (!spec.takesValue) {
      if (equals !== -1) throw new CommandLineError(`flag '--${name}' takes no value`)
      fromFlags.set(name, 'true')
      continue
    }
    let value: string | undefined
    if (equals !== -1) value = argument.slice(equals + 1)
    else {
      value = argv[index + 1]
      if (value === undefined || value.startsWith('--')) throw new CommandLineError(`flag '--${name}' needs a value`)
      index++
    }
    fromFlags.set(name, value)
  }

  // A flag overrides its env twin; an empty env variable counts as unset, as shells commonly export empty values.
  const lookup = (name: string): { value: string; source: string } | undefined => {
    const flagValue = fromFlags.get(name)
    if (flagValue !== undefined) return { value: flagValue, source: `--${name}` }
    const spec = flagSpecs.find((flag) => flag.name === name)!
    const envValue = env[spec.env]
    return envValue === undefined || envValue === '' ? undefined : { value: envValue, source: spec.env }
  }

  const host = lookup('host')?.value ?? defaultHost
  if (host.trim() === '') throw new CommandLineError('--host must not be empty')

  const portInput = lookup('port')
  const port = portInput === undefined ? defaultPort : parsePort(portInput.value, portInput.source)

  const kurrentdb = lookup('kurrentdb')?.value ?? defaultKurrentDb
  if (!/^(kurrentdb|kdb|esdb|eventstore)(\+discover)?:\/\//i.test(kurrentdb)) {
    throw new CommandLineError(`--kurrentdb must be a connection string such as ${defaultKurrentDb}, got '${kurrentdb}'`)
  }

  const insecureInput = lookup('insecure')
  const insecure = insecureInput === undefined ? false : parseBoolean(insecureInput.value, insecureInput.source)
  const user = lookup('api-user')?.value
  const password = lookup('api-password')?.value
  if (insecure && (user !== undefined || password !== undefined)) {
    throw new CommandLineError('--insecure cannot be combined with --api-user/--api-password: choose one')
  }
  if ((user === undefined) !== (password === undefined)) {
    throw new CommandLineError('--api-user and --api-password must be given together')
  }
  if (!insecure && user === undefined) {
    throw new CommandLineError(
      'the management API needs credentials: pass --api-user and --api-password (or KAFKA_SINK_API_USER/KAFKA_SINK_API_PASSWORD), or --insecure for local development',
    )
  }
  if (user !== undefined && user.includes(':')) throw new CommandLineError('--api-user must not contain ":" (basic auth separates user and password with it)')

  const token = lookup('data-protection-token')
  const tokenFile = lookup('data-protection-token-file')
  if (token !== undefined && tokenFile !== undefined) {
    throw new CommandLineError(`${token.source} and ${tokenFile.source} are both set: keep one`)
  }

  const logLevelInput = lookup('log-level')
  const logLevel = (logLevelInput?.value.toLowerCase() ?? 'info') as LogLevel
  if (!logLevels.includes(logLevel)) {
    throw new CommandLineError(`${logLevelInput!.source} must be one of ${logLevels.join(', ')}, got '${logLevelInput!.value}'`)
  }

  const stallAfter = lookup('stall-after')
  const readyFailsOnStall = lookup('ready-fails-on-stall')
  const commitFailureLimit = lookup('commit-failure-limit')

  return {
    command: 'serve',
    options: {
      host,
      port,
      kurrentdb,
      apiCredentials: user !== undefined && password !== undefined ? { user, password } : undefined,
      insecure,
      dataProtection: token !== undefined ? { token: token.value } : tokenFile !== undefined ? { tokenFile: tokenFile.value } : undefined,
      connectorsFile: lookup('connectors')?.value,
      logLevel,
      stallAfterMs: stallAfter === undefined ? defaultStallAfterMs : parseDuration(stallAfter.value, stallAfter.source),
      readyFailsOnStall: readyFailsOnStall === undefined ? false : parseBoolean(readyFailsOnStall.value, readyFailsOnStall.source),
      commitFailureLimitMs: commitFailureLimit === undefined ? defaultCommitFailureLimitMs : parseDuration(commitFailureLimit.value, commitFailureLimit.source),
    },
  }
}

function parsePort(value: string, source: string): number {
  if (!/^\d+$/.test(value)) throw new CommandLineError(`${source} must be a port number (0-65535), got '${value}'`)
  const port = Number(value)
  if (port > 65535) throw new CommandLineError(`${source} must be a port number (0-65535), got '${value}'`)
  return port
}

const durationUnits: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000 }

/** A positive duration: a number with `ms`, `s` or `m` (a bare number is seconds). */
function parseDuration(value: string, source: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim())
  const milliseconds = match === null ? Number.NaN : Math.round(Number(match[1]) * durationUnits[match[2] ?? 's']!)
  if (!(milliseconds > 0)) throw new CommandLineError(`${source} must be a positive duration such as 60s, 2m or 500ms, got '${value}'`)
  return milliseconds
}

function parseBoolean(value: string, source: string): boolean {
  const normalized = value.toLowerCase()
  if (['true', '1', 'yes'].includes(normalized)) return true
  if (['false', '0', 'no'].includes(normalized)) return false
  throw new CommandLineError(`${source} must be true or false, got '${value}'`)
}
