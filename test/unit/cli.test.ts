import { describe, expect, test } from 'bun:test'
import { defaultKurrentDb, helpText, parseCommandLine } from '../../src/cli.ts'

const credentials = ['--api-user', 'admin', '--api-password', 'changeit']

function invalidMessage(argv: string[], env: Record<string, string> = {}): string {
  const parsed = parseCommandLine(argv, env)
  if (parsed.command !== 'invalid') throw new Error(`expected invalid, got ${parsed.command}`)
  return parsed.message
}

describe('parseCommandLine', () => {
  test('defaults, with the serve subcommand optional', () => {
    for (const argv of [credentials, ['serve', ...credentials]]) {
      const parsed = parseCommandLine(argv, {})
      expect(parsed).toEqual({
        command: 'serve',
        options: {
          host: '0.0.0.0',
          port: 2114,
          kurrentdb: defaultKurrentDb,
          apiCredentials: { user: 'admin', password: 'changeit' },
          insecure: false,
          allowedHosts: [],
          dataProtection: undefined,
          connectorsFile: undefined,
          tls: undefined,
          logLevel: 'info',
          stallAfterMs: 60_000,
          readyFailsOnStall: false,
          commitFailureLimitMs: 60_000,
          instanceId: undefined,
          leaseDurationMs: 15_000,
          warnings: [expect.stringContaining('--api-password was given on the command line')],
        },
      })
    }
  })

  test('without credentials the API listens on loopback unless --host says otherwise', () => {
    const insecure = parseCommandLine(['--insecure'], {})
    expect(insecure.command === 'serve' && insecure.options.host).toBe('127.0.0.1')
    const chosen = parseCommandLine(['--insecure', '--host', '0.0.0.0'], {})
    expect(chosen.command === 'serve' && chosen.options.host).toBe('0.0.0.0')
    const fromEnv = parseCommandLine(['--insecure'], { KAFKA_SINK_HOST: '::' })
    expect(fromEnv.command === 'serve' && fromEnv.options.host).toBe('::')
  })

  test('the API password can come from a file (or its env twin), and not together with the password itself', () => {
    const fromFile = parseCommandLine(['--api-user', 'admin', '--api-password-file', '/run/secrets/api'], {})
    expect(fromFile.command === 'serve' && fromFile.options.apiCredentials).toEqual({ user: 'admin', passwordFile: '/run/secrets/api' })
    expect(fromFile.command === 'serve' && fromFile.options.warnings).toEqual([])
    const fromEnv = parseCommandLine([], { KAFKA_SINK_API_USER: 'admin', KAFKA_SINK_API_PASSWORD_FILE: '/run/secrets/api' })
    expect(fromEnv.command === 'serve' && fromEnv.options.apiCredentials).toEqual({ user: 'admin', passwordFile: '/run/secrets/api' })
    expect(invalidMessage(['--api-user', 'a', '--api-password', 'p', '--api-password-file', '/f'])).toContain('keep one')
    expect(invalidMessage(['--api-password-file', '/f'])).toContain('must be given together')
  })

  test('a secret given as a flag (visible in ps) is warned about; the same secret from the environment is not', () => {
    const flags = parseCommandLine(['--api-user', 'a', '--api-password', 'pw-SECRET-1', '--data-protection-token', 'tok-SECRET-2'], {})
    expect(flags.command === 'serve' && flags.options.warnings.length).toBe(2)
    expect(flags.command === 'serve' && flags.options.warnings.join('\n')).toContain('KAFKA_SINK_DATA_PROTECTION_TOKEN or --data-protection-token-file')
    const env = parseCommandLine([], { KAFKA_SINK_API_USER: 'a', KAFKA_SINK_API_PASSWORD: 'p', KAFKA_SINK_DATA_PROTECTION_TOKEN: 't' })
    expect(env.command === 'serve' && env.options.warnings).toEqual([])
    for (const warning of flags.command === 'serve' ? flags.options.warnings : []) expect(warning).not.toContain('SECRET')
  })

  test('a malformed --kurrentdb is refused without echoing its credentials', () => {
    for (const connectionString of ['http://admin:s3cret@db:2113', 'kurentdb://admin:s3/cret@db:2113?tls=false', 'admin:s3cret@db:2113']) {
      const message = invalidMessage(['--insecure', '--kurrentdb', connectionString])
      expect(message).toContain('connection string')
      expect(message).not.toContain('s3')
    }
  })

  test('--tls-cert-file and --tls-key-file come together', () => {
    expect(invalidMessage(['--insecure', '--tls-cert-file', '/c.pem'])).toContain('must be given together')
    expect(invalidMessage(['--insecure'], { KAFKA_SINK_TLS_KEY_FILE: '/k.pem' })).toContain('must be given together')
  })

  test('every flag has an env twin, and a flag overrides its twin', () => {
    const env = {
      KAFKA_SINK_HOST: '127.0.0.1',
      KAFKA_SINK_PORT: '9000',
      KAFKA_SINK_KURRENTDB: 'kurrentdb://db:2113?tls=false',
      KAFKA_SINK_API_USER: 'ops',
      KAFKA_SINK_API_PASSWORD: 'secret',
      KAFKA_SINK_DATA_PROTECTION_TOKEN_FILE: '/run/token',
      KAFKA_SINK_CONNECTORS: '/etc/connectors.yaml',
      KAFKA_SINK_LOG_LEVEL: 'WARN',
      KAFKA_SINK_STALL_AFTER: '2m',
      KAFKA_SINK_READY_FAILS_ON_STALL: 'true',
      KAFKA_SINK_COMMIT_FAILURE_LIMIT: '500ms',
      KAFKA_SINK_INSTANCE_ID: 'node-1',
      KAFKA_SINK_LEASE_DURATION: '20s',
      KAFKA_SINK_ALLOWED_HOSTS: 'sink.internal, Other.Example ',
      KAFKA_SINK_TLS_CERT_FILE: '/tls/cert.pem',
      KAFKA_SINK_TLS_KEY_FILE: '/tls/key.pem',
    }
    const parsed = parseCommandLine(['--port=9001'], env)
    expect(parsed).toEqual({
      command: 'serve',
      options: {
        host: '127.0.0.1',
        port: 9001,
        kurrentdb: 'kurrentdb://db:2113?tls=false',
        apiCredentials: { user: 'ops', password: 'secret' },
        insecure: false,
        allowedHosts: ['sink.internal', 'Other.Example'],
        dataProtection: { tokenFile: '/run/token' },
        connectorsFile: '/etc/connectors.yaml',
        tls: { certFile: '/tls/cert.pem', keyFile: '/tls/key.pem' },
        logLevel: 'warn',
        stallAfterMs: 120_000,
        readyFailsOnStall: true,
        commitFailureLimitMs: 500,
        instanceId: 'node-1',
        leaseDurationMs: 20_000,
        warnings: [],
      },
    })
    const insecure = parseCommandLine([], { KAFKA_SINK_INSECURE: 'true', KAFKA_SINK_DATA_PROTECTION_TOKEN: 't' })
    expect(insecure.command === 'serve' && insecure.options.insecure && insecure.options.dataProtection).toEqual({ token: 't' })
  })

  test('--version and --help win over everything else', () => {
    expect(parseCommandLine(['--bogus', '--version'], {}).command).toBe('invalid')
    expect(parseCommandLine(['--version', '--bogus'], {}).command).toBe('version')
    expect(parseCommandLine(['--help'], {}).command).toBe('help')
  })

  const rows: Array<{ name: string; argv: string[]; env?: Record<string, string>; contains: string }> = [
    { name: 'no credentials and not insecure', argv: [], contains: 'needs credentials' },
    { name: 'unknown flag', argv: ['--prot', '1'], contains: "unknown flag '--prot'" },
    { name: 'stall time without a number', argv: [...credentials, '--stall-after', 'soon'], contains: "--stall-after must be a positive duration such as 60s, 2m or 500ms, got 'soon'" },
    { name: 'zero commit failure limit', argv: [...credentials, '--commit-failure-limit', '0'], contains: '--commit-failure-limit must be a positive duration' },
    { name: 'stray argument', argv: ['start'], contains: "unexpected argument 'start'" },
    { name: 'flag without its value', argv: ['--port'], contains: "'--port' needs a value" },
    { name: 'port out of range', argv: ['--port', '70000', '--insecure'], contains: '0-65535' },
    { name: 'port not a number, from env', argv: ['--insecure'], env: { KAFKA_SINK_PORT: 'http' }, contains: 'KAFKA_SINK_PORT must be a port number' },
    { name: 'insecure with credentials', argv: ['--insecure', ...credentials], contains: 'cannot be combined' },
    { name: 'user without password', argv: ['--api-user', 'admin'], contains: 'must be given together' },
    { name: 'both token forms', argv: ['--insecure', '--data-protection-token', 'a', '--data-protection-token-file', 'b'], contains: 'keep one' },
    { name: 'bad log level', argv: ['--insecure', '--log-level', 'verbose'], contains: 'must be one of debug, info, warn, error' },
    { name: 'bad connection string', argv: ['--insecure', '--kurrentdb', 'localhost:2113'], contains: 'connection string' },
    { name: 'flag given twice', argv: ['--insecure', '--port', '1', '--port', '2'], contains: 'given twice' },
    { name: 'bad insecure value', argv: [], env: { KAFKA_SINK_INSECURE: 'maybe' }, contains: 'KAFKA_SINK_INSECURE must be true or false' },
  ]
  for (const row of rows) {
    test(`rejects: ${row.name}`, () => expect(invalidMessage(row.argv, row.env)).toContain(row.contains))
  }
})

describe('helpText', () => {
  test('lists every flag and its env twin', () => {
    const text = helpText('1.2.3')
    for (const flag of ['--host', '--port', '--kurrentdb', '--api-user', '--api-password', '--api-password-file', '--insecure', '--allowed-hosts', '--data-protection-token', '--data-protection-token-file', '--tls-cert-file', '--tls-key-file', '--connectors', '--log-level', '--version', '--help']) {
      expect(text).toContain(flag)
    }
    expect(text).toContain('KAFKA_SINK_DATA_PROTECTION_TOKEN_FILE')
  })
})

describe('kafka-sink health', () => {
  test('probes the liveness route on loopback at the default port', () => {
    expect(parseCommandLine(['health'], {})).toEqual({ command: 'health', options: { url: 'http://127.0.0.1:2114/health/live' } })
  })

  test('takes the port and host the server was configured with through the env twins', () => {
    expect(parseCommandLine(['health'], { KAFKA_SINK_PORT: '8080', KAFKA_SINK_HOST: '0.0.0.0' })).toEqual({
      command: 'health',
      options: { url: 'http://127.0.0.1:8080/health/live' },
    })
  })

  test('flags win over env; an IPv6 address is bracketed, the IPv6 wildcard probes ::1', () => {
    expect(parseCommandLine(['health', '--port', '9000', '--host', '::1'], { KAFKA_SINK_PORT: '8080' })).toEqual({
      command: 'health',
      options: { url: 'http://[::1]:9000/health/live' },
    })
    expect(parseCommandLine(['health', '--host=::'], {})).toEqual({ command: 'health', options: { url: 'http://[::1]:2114/health/live' } })
  })

  test('refuses other flags, a missing value and port 0 with one line', () => {
    for (const argv of [['health', '--insecure'], ['health', '--port'], ['health', '--port', '0'], ['health', 'extra']]) {
      const result = parseCommandLine(argv, {})
      expect(result.command).toBe('invalid')
      expect((result as { message: string }).message).not.toContain('\n')
    }
  })
})

describe('ownership flags', () => {
  const credentials = ['--api-user', 'admin', '--api-password', 'changeit']
  test('a lease duration in seconds or milliseconds, from 1 s to 600 s', () => {
    const lease = (value: string) => {
      const parsed = parseCommandLine([...credentials, '--lease-duration', value], {})
      return parsed.command === 'serve' ? parsed.options.leaseDurationMs : parsed.command
    }
    expect(lease('15s')).toBe(15_000)
    expect(lease('2500ms')).toBe(2_500)
    expect(lease('1m')).toBe(60_000)
    // A bare number is seconds, as for the other durations of the command line.
    expect(lease('20')).toBe(20_000)
    for (const bad of ['0s', '999ms', '601s', '3000', '15 minutes', '-5s', '']) expect(lease(bad)).toBe('invalid')
  })

  test('an instance id is printable and has no spaces', () => {
    expect(parseCommandLine([...credentials, '--instance-id', 'kurrentdb-0.sidecar'], {})).toMatchObject({ options: { instanceId: 'kurrentdb-0.sidecar' } })
    for (const bad of ['with space', 'tab\there', 'x'.repeat(201)]) expect(parseCommandLine([...credentials, '--instance-id', bad], {}).command).toBe('invalid')
  })
})
