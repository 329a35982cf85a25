/**
 * The command line: flags, their environment twins, defaults and the help text. Pure: it turns argv and env into a
 * `CommandLine` value and never exits, prints or reads files, so every rule here is unit-tested.
 */
import { logLevels, type LogLevel } from './observability/logger.ts'
import { redactConnectionString } from './observability/redaction.ts'

export interface ServeOptions {
  readonly host: string
  readonly port: number
  readonly kurrentdb: string
  /** undefined only with `insecure`; the password itself, or the file that holds it (read at start-up). */
  readonly apiCredentials: { readonly user: string; readonly password: string } | { readonly user: string; readonly passwordFile: string } | undefined
  readonly insecure: boolean
  /** Host names the API answers besides loopback ones when it runs without credentials (DNS rebinding defence). */
  readonly allowedHosts: readonly string[]
  readonly dataProtection: { readonly token: string } | { readonly tokenFile: string } | undefined
  readonly connectorsFile: string | undefined
  /** PEM files for serving the API over HTTPS; both or neither. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined
  readonly logLevel: LogLevel
  /** A connector with work whose confirmed position has not moved for this long is reported stalled. */
  readonly stallAfterMs: number
  /** With it, /health/ready answers 503 while a connector is stalled. */
  readonly readyFailsOnStall: boolean
  /** A connector whose checkpoint commits have failed for this long stops with the reason. */
  readonly commitFailureLimitMs: number
  /** Names this instance in leases; undefined means host name and listening port. */
  readonly instanceId: string | undefined
  readonly leaseDurationMs: number
  /** What the app should warn about once it logs: secrets given as flags, which every user of the machine sees in `ps`. */
  readonly warnings: readonly string[]
}

/** `kafka-sink health`: probes the liveness route of the instance on this host, for images without curl. */
export interface HealthProbeOptions {
  readonly url: string
}

export type CommandLine =
  | { readonly command: 'version' }
  | { readonly command: 'help' }
  | { readonly command: 'serve'; readonly options: ServeOptions }
  | { readonly command: 'health'; readonly options: HealthProbeOptions }
  | { readonly command: 'invalid'; readonly message: string }

interface FlagSpec {
  readonly name: string
  readonly env: string
  readonly takesValue: boolean
  readonly valueName?: string
  readonly help: string
}

export const defaultHost = '0.0.0.0'
/** Without credentials the API listens on loopback only, unless --host says otherwise. */
export const defaultInsecureHost = '127.0.0.1'
export const defaultPort = 2114
export const defaultKurrentDb = 'kurrentdb://localhost:2113?tls=false'
export const defaultStallAfterMs = 60_000
/**
 * Long enough to ride out a KurrentDB restart or leader election (Kafka keeps receiving meanwhile; only the
 * replay after a crash grows), short enough that a connector that can never checkpoint again says so.
 */
export const defaultCommitFailureLimitMs = 60_000
export const defaultLeaseDurationMs = 15_000
const leaseDurationRange = { minMs: 1_000, maxMs: 600_000 }

const flagSpecs: readonly FlagSpec[] = [
  { name: 'host', env: 'KAFKA_SINK_HOST', takesValue: true, valueName: 'H', help: `address the HTTP API listens on (default ${defaultHost}, ${defaultInsecureHost} with --insecure)` },
  { name: 'port', env: 'KAFKA_SINK_PORT', takesValue: true, valueName: 'N', help: `HTTP API port, 0 picks a free one (default ${defaultPort})` },
  { name: 'kurrentdb', env: 'KAFKA_SINK_KURRENTDB', takesValue: true, valueName: 'CONN', help: `KurrentDB connection string (default ${defaultKurrentDb})` },
  { name: 'api-user', env: 'KAFKA_SINK_API_USER', takesValue: true, valueName: 'U', help: 'user name the management API requires (basic auth)' },
  { name: 'api-password', env: 'KAFKA_SINK_API_PASSWORD', takesValue: true, valueName: 'P', help: 'password the management API requires (basic auth); prefer the env variable or --api-password-file' },
  { name: 'api-password-file', env: 'KAFKA_SINK_API_PASSWORD_FILE', takesValue: true, valueName: 'F', help: 'file holding the management API password' },
  { name: 'insecure', env: 'KAFKA_SINK_INSECURE', takesValue: false, help: 'serve the management API without authentication (local development only)' },
  { name: 'allowed-hosts', env: 'KAFKA_SINK_ALLOWED_HOSTS', takesValue: true, valueName: 'LIST', help: 'comma-separated host names the API answers with --insecure, besides loopback ones' },
  { name: 'data-protection-token', env: 'KAFKA_SINK_DATA_PROTECTION_TOKEN', takesValue: true, valueName: 'T', help: 'secret the connector passwords are encrypted with; it must never change; prefer the env variable or the file' },
  { name: 'data-protection-token-file', env: 'KAFKA_SINK_DATA_PROTECTION_TOKEN_FILE', takesValue: true, valueName: 'F', help: 'file holding the data-protection token' },
  { name: 'tls-cert-file', env: 'KAFKA_SINK_TLS_CERT_FILE', takesValue: true, valueName: 'F', help: 'PEM certificate (chain) to serve the HTTP API over HTTPS' },
  { name: 'tls-key-file', env: 'KAFKA_SINK_TLS_KEY_FILE', takesValue: true, valueName: 'F', help: 'PEM private key of --tls-cert-file' },
  { name: 'connectors', env: 'KAFKA_SINK_CONNECTORS', takesValue: true, valueName: 'FILE', help: 'YAML or JSON file of connectors to create or update at start-up' },
  { name: 'log-level', env: 'KAFKA_SINK_LOG_LEVEL', takesValue: true, valueName: 'LEVEL', help: `one of ${logLevels.join('|')} (default info)` },
  { name: 'stall-after', env: 'KAFKA_SINK_STALL_AFTER', takesValue: true, valueName: 'DURATION', help: `report a connector stalled when it has events to deliver and its confirmed position has not moved for this long, e.g. 90s, 2m, 500ms (default ${defaultStallAfterMs / 1000}s)` },
  { name: 'ready-fails-on-stall', env: 'KAFKA_SINK_READY_FAILS_ON_STALL', takesValue: false, help: '/health/ready answers 503 while a connector is stalled' },
  { name: 'commit-failure-limit', env: 'KAFKA_SINK_COMMIT_FAILURE_LIMIT', takesValue: true, valueName: 'DURATION', help: `stop a connector whose checkpoint commits have failed for this long (default ${defaultCommitFailureLimitMs / 1000}s)` },
  { name: 'instance-id', env: 'KAFKA_SINK_INSTANCE_ID', takesValue: true, valueName: 'ID', help: 'names this instance in connector leases; unique per instance (default: host name and port)' },
  {
    name: 'lease-duration',
    env: 'KAFKA_SINK_LEASE_DURATION',
    takesValue: true,
    valueName: 'DURATION',
    help: `how long a connector lease lasts without renewal before another instance takes over, e.g. 15s or 15000ms (default ${defaultLeaseDurationMs / 1000}s)`,
  },
]

export function helpText(version: string): string {
  const width = Math.max(...flagSpecs.map((flag) => flagLabel(flag).length))
  const lines = flagSpecs.map((flag) => `  ${flagLabel(flag).padEnd(width)}  ${flag.help} [env ${flag.env}]`)
  return [
    `kafka-sink ${version}: streams KurrentDB events to Kafka, managed through KurrentDB's connectors HTTP API`,
    '',
    'Usage:',
    '  kafka-sink [serve] [--host H] [--port N] [--kurrentdb CONN]',
    '                     [--api-user U (--api-password P | --api-password-file F) | --insecure]',
    '                     [--data-protection-token T | --data-protection-token-file F]',
    '                     [--tls-cert-file F --tls-key-file F]',
    '                     [--connectors FILE] [--log-level debug|info|warn|error]',
    '                     [--stall-after DURATION] [--ready-fails-on-stall] [--commit-failure-limit DURATION]',
    '                     [--instance-id ID] [--lease-duration DURATION]',
    '  kafka-sink health [--host H] [--port N]   exit 0 when /health/live of the instance on this host answers 200',
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
  if (argv[0] === 'health') return parseHealthProbe(argv.slice(1), env)
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

  const hostInput = lookup('host')?.value
  if (hostInput !== undefined && hostInput.trim() === '') throw new CommandLineError('--host must not be empty')

  const portInput = lookup('port')
  const port = portInput === undefined ? defaultPort : parsePort(portInput.value, portInput.source)

  const kurrentdb = lookup('kurrentdb')?.value ?? defaultKurrentDb
  if (!/^(kurrentdb|kdb|esdb|eventstore)(\+discover)?:\/\//i.test(kurrentdb)) {
    // The value may hold credentials (`user:password@host`, with the scheme mistyped): never echo them.
    throw new CommandLineError(`--kurrentdb must be a connection string such as ${defaultKurrentDb}, got '${redactConnectionString(kurrentdb)}'`)
  }

  const insecureInput = lookup('insecure')
  const insecure = insecureInput === undefined ? false : parseBoolean(insecureInput.value, insecureInput.source)
  const user = lookup('api-user')?.value
  const passwordInput = lookup('api-password')
  const passwordFileInput = lookup('api-password-file')
  if (passwordInput !== undefined && passwordFileInput !== undefined) {
    throw new CommandLineError(`${passwordInput.source} and ${passwordFileInput.source} are both set: keep one`)
  }
  const password = passwordInput?.value ?? passwordFileInput?.value
  if (insecure && (user !== undefined || password !== undefined)) {
    throw new CommandLineError('--insecure cannot be combined with --api-user/--api-password: choose one')
  }
  if ((user === undefined) !== (password === undefined)) {
    throw new CommandLineError('--api-user and --api-password (or --api-password-file) must be given together')
  }
  if (!insecure && user === undefined) {
    throw new CommandLineError(
      'the management API needs credentials: pass --api-user and --api-password (or KAFKA_SINK_API_USER/KAFKA_SINK_API_PASSWORD), or --insecure for local development',
    )
  }
  const host = hostInput ?? (insecure ? defaultInsecureHost : defaultHost)
  const allowedHosts = (lookup('allowed-hosts')?.value ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '')
  if (user !== undefined && user.includes(':')) throw new CommandLineError('--api-user must not contain ":" (basic auth separates user and password with it)')

  const token = lookup('data-protection-token')
  const tokenFile = lookup('data-protection-token-file')
  if (token !== undefined && tokenFile !== undefined) {
    throw new CommandLineError(`${token.source} and ${tokenFile.source} are both set: keep one`)
  }

  const tlsCertFile = lookup('tls-cert-file')
  const tlsKeyFile = lookup('tls-key-file')
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) {
    throw new CommandLineError('--tls-cert-file and --tls-key-file must be given together')
  }

  const logLevelInput = lookup('log-level')
  const logLevel = (logLevelInput?.value.toLowerCase() ?? 'info') as LogLevel
  if (!logLevels.includes(logLevel)) {
    throw new CommandLineError(`${logLevelInput!.source} must be one of ${logLevels.join(', ')}, got '${logLevelInput!.value}'`)
  }

  const stallAfter = lookup('stall-after')
  const readyFailsOnStall = lookup('ready-fails-on-stall')
  const commitFailureLimit = lookup('commit-failure-limit')
  const instanceId = lookup('instance-id')
  if (instanceId !== undefined && !/^[\x21-\x7e]{1,200}$/.test(instanceId.value)) {
    throw new CommandLineError(`${instanceId.source} must be 1-200 printable characters without spaces, got '${instanceId.value.slice(0, 50)}'`)
  }
  const leaseInput = lookup('lease-duration')
  const leaseDurationMs = leaseInput === undefined ? defaultLeaseDurationMs : parseLeaseDuration(leaseInput.value, leaseInput.source)
  const warnings = (['api-password', 'data-protection-token'] as const)
    .filter((name) => fromFlags.has(name))
    .map(
      (name) =>
        `--${name} was given on the command line, where every user of this machine can read it (ps, /proc): ` +
        `use ${flagSpecs.find((flag) => flag.name === name)!.env} or --${name}-file instead`,
    )

  return {
    command: 'serve',
    options: {
      host,
      port,
      kurrentdb,
      apiCredentials:
        user === undefined ? undefined : passwordFileInput !== undefined ? { user, passwordFile: passwordFileInput.value } : { user, password: password! },
      insecure,
      allowedHosts,
      dataProtection: token !== undefined ? { token: token.value } : tokenFile !== undefined ? { tokenFile: tokenFile.value } : undefined,
      connectorsFile: lookup('connectors')?.value,
      tls: tlsCertFile !== undefined && tlsKeyFile !== undefined ? { certFile: tlsCertFile.value, keyFile: tlsKeyFile.value } : undefined,
      logLevel,
      stallAfterMs: stallAfter === undefined ? defaultStallAfterMs : parseDuration(stallAfter.value, stallAfter.source),
      readyFailsOnStall: readyFailsOnStall === undefined ? false : parseBoolean(readyFailsOnStall.value, readyFailsOnStall.source),
      commitFailureLimitMs: commitFailureLimit === undefined ? defaultCommitFailureLimitMs : parseDuration(commitFailureLimit.value, commitFailureLimit.source),
      instanceId: instanceId?.value,
      leaseDurationMs,
      warnings,
    },
  }
}

/**
 * The probe reads the same --host/--port (or env twins) the server was given, so a container's HEALTHCHECK needs no
 * arguments of its own. A wildcard listen address is probed on loopback, where the server also answers.
 */
function parseHealthProbe(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CommandLine {
  const values = new Map<string, string>()
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!
    const equals = argument.indexOf('=')
    const name = argument.startsWith('--') ? argument.slice(2, equals === -1 ? undefined : equals) : ''
    if (name !== 'host' && name !== 'port') throw new CommandLineError(`kafka-sink health takes only --host and --port, got '${argument}'`)
    const value = equals !== -1 ? argument.slice(equals + 1) : argv[++index]
    if (value === undefined || value === '') throw new CommandLineError(`flag '--${name}' needs a value`)
    values.set(name, value)
  }
  const envValue = (name: string) => (env[name] === '' ? undefined : env[name])
  const portText = values.get('port') ?? envValue('KAFKA_SINK_PORT')
  const port = portText === undefined ? defaultPort : parsePort(portText, values.has('port') ? '--port' : 'KAFKA_SINK_PORT')
  if (port === 0) throw new CommandLineError('kafka-sink health needs the port the server listens on, not 0')
  const host = values.get('host') ?? envValue('KAFKA_SINK_HOST') ?? '127.0.0.1'
  const probedHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' || host === '[::]' ? '[::1]' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  return { command: 'health', options: { url: `http://${probedHost}:${port}/health/live` } }
}

function parseLeaseDuration(value: string, source: string): number {
  const milliseconds = parseDuration(value, source)
  if (milliseconds < leaseDurationRange.minMs || milliseconds > leaseDurationRange.maxMs) {
    throw new CommandLineError(`${source} must be from 1s to 600s, such as 15s or 15000ms, got '${value.slice(0, 50)}'`)
  }
  return milliseconds
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
