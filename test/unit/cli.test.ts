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
          dataProtection: undefined,
          connectorsFile: undefined,
          logLevel: 'info',
          stallAfterMs: 60_000,
          readyFailsOnStall: false,
          commitFailureLimitMs: 60_000,
        },
      })
    }
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
        dataProtection: { tokenFile: '/run/token' },
        connectorsFile: '/etc/connectors.yaml',
        logLevel: 'warn',
        stallAfterMs: 120_000,
        readyFailsOnStall: true,
        commitFailureLimitMs: 500,
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
    for (const flag of ['--host', '--port', '--kurrentdb', '--api-user', '--api-password', '--insecure', '--data-protection-token', '--data-protection-token-file', '--connectors', '--log-level', '--version', '--help']) {
      expect(text).toContain(flag)
    }
    expect(text).toContain('KAFKA_SINK_DATA_PROTECTION_TOKEN_FILE')
  })
})
