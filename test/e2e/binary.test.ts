/**
 * The single binary as users run it: from an empty directory, its CLI contract (exit codes, one-line errors, help),
 * health endpoints, JSON logs, and graceful shutdown on SIGTERM/SIGINT.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnKurrentDbEmulator, type KurrentDbEmulatorProcess } from '../support/kurrentdb-emulator-process.ts'
import { createTestCertificates } from '../support/kafka-security-front/certificates.ts'
import { sinkApi, sinkCommand, sinkEnvironment, sinkExecutable, startSinkProcess } from '../support/sink-process.ts'

let emptyDirectory: string
let emulator: KurrentDbEmulatorProcess

beforeAll(async () => {
  emptyDirectory = await mkdtemp(join(tmpdir(), 'kafka-sink-empty-'))
  emulator = await spawnKurrentDbEmulator()
})
afterAll(async () => {
  await emulator?.stop()
  await rm(emptyDirectory, { recursive: true, force: true })
})

async function run(args: string[], env: Record<string, string> = {}) {
  // No inherited KAFKA_SINK_* variables: the test decides every input.
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KAFKA_SINK_')))
  const child = Bun.spawn(sinkCommand(args), { cwd: emptyDirectory, env: { ...cleanEnv, ...sinkEnvironment(), ...env }, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  return { stdout, stderr, exitCode }
}

describe('the CLI', () => {
  test('--version runs from an empty directory, without node_modules', async () => {
    const { stdout, exitCode } = await run(['--version'])
    expect(exitCode).toBe(0)
    expect(stdout).toMatch(/^kafka-sink \d+\.\d+\.\d+\n$/)
  })

  test('--help lists every flag with its environment twin', async () => {
    const { stdout, exitCode } = await run(['--help'])
    expect(exitCode).toBe(0)
    for (const flag of ['--host', '--port', '--kurrentdb', '--api-user', '--api-password', '--api-password-file', '--insecure', '--allowed-hosts', '--data-protection-token', '--data-protection-token-file', '--tls-cert-file', '--tls-key-file', '--connectors', '--kafka-engine', '--log-level', '--version', '--help']) {
      expect(stdout).toContain(flag)
    }
    expect(stdout).toContain('KAFKA_SINK_API_PASSWORD')
  })

  const refusals: Array<{ name: string; args: string[]; env?: Record<string, string>; contains: string; absent?: string }> = [
    { name: 'no credentials and no --insecure', args: [], contains: 'needs credentials' },
    { name: 'an unknown flag', args: ['--insecure', '--bogus'], contains: "unknown flag '--bogus'" },
    { name: 'a bad port', args: ['--insecure', '--port', 'abc'], contains: 'port number' },
    { name: 'a malformed --kurrentdb holding credentials (never echoed)', args: ['--insecure', '--kurrentdb', 'http://admin:s3cret@db:2113'], contains: '***@db:2113', absent: 's3cret' },
    { name: 'a bad value from the environment', args: ['--insecure'], env: { KAFKA_SINK_LOG_LEVEL: 'loud' }, contains: 'KAFKA_SINK_LOG_LEVEL' },
    { name: 'a token file that does not exist', args: ['--insecure', '--data-protection-token-file', '/nonexistent/token'], contains: 'cannot read the data-protection token file' },
  ]
  for (const refusal of refusals) {
    test(`refuses to start with ${refusal.name}: exit 2, one line, no stack trace`, async () => {
      const { stderr, stdout, exitCode } = await run(refusal.args, refusal.env)
      expect(exitCode).toBe(2)
      expect(stderr).toContain(refusal.contains)
      expect(stderr.trim().split('\n')).toHaveLength(1)
      expect(stderr + stdout).not.toMatch(/\n\s+at /)
      if (refusal.absent !== undefined) expect(stderr + stdout).not.toContain(refusal.absent)
    })
  }
})

describe('the server', () => {
  test('liveness answers while KurrentDB is down; readiness says why it is not ready, then recovers', async () => {
    await emulator.down()
    const sink = await startSinkProcess({ kurrentdb: emulator.connectionString, waitForReady: false })
    try {
      expect((await fetch(`${sink.baseUrl}/health/live`)).status).toBe(200)
      const notReady = await fetch(`${sink.baseUrl}/health/ready`)
      expect(notReady.status).toBe(503)
      expect(await notReady.text()).toMatch(/KurrentDB|loading/)
      await emulator.up()
      let status = 0
      for (let attempt = 0; attempt < 300 && status !== 200; attempt++) {
        status = (await fetch(`${sink.baseUrl}/health/ready`)).status
        if (status !== 200) await Bun.sleep(100)
      }
      expect(status).toBe(200)
    } finally {
      await emulator.up().catch(() => {})
      await sink.stop('SIGKILL')
    }
  }, 60_000)

  test('logs are JSON lines on stdout, and the API password never appears in them', async () => {
    const sink = await startSinkProcess({ kurrentdb: emulator.connectionString })
    const exitCode = await sink.stop('SIGTERM')
    expect(exitCode).toBe(0)
    const stdoutLines = sink.lines().filter((line) => !line.startsWith('stderr: '))
    expect(stdoutLines.length).toBeGreaterThan(0)
    for (const line of stdoutLines) {
      const entry = JSON.parse(line) as { time: string; level: string; message: string }
      expect(entry.level).toMatch(/^(debug|info|warn|error)$/)
      expect(Date.parse(entry.time)).not.toBeNaN()
      expect(line).not.toContain('changeit')
    }
    expect(stdoutLines.some((line) => line.includes('"stopped"'))).toBe(true)
  })

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} shuts down gracefully with exit code 0`, async () => {
      const sink = await startSinkProcess({ kurrentdb: emulator.connectionString })
      expect(await sink.stop(signal)).toBe(0)
    })
  }

  test('--insecure serves without credentials and warns about it', async () => {
    const sink = await startSinkProcess({ kurrentdb: emulator.connectionString, withCredentials: false, args: ['--insecure'] })
    try {
      expect((await fetch(`${sink.baseUrl}/connectors`)).status).toBe(200)
      expect(sink.lines().some((line) => line.includes('"level":"warn"') && line.includes('--insecure'))).toBe(true)
    } finally {
      await sink.stop()
    }
  })

  test('readiness answers the reason class, not the client\'s error text; the log has the details once per change', async () => {
    const sink = await startSinkProcess({ kurrentdb: emulator.connectionString })
    try {
      await emulator.down()
      const bodies: string[] = []
      for (let attempt = 0; attempt < 5; attempt++) {
        const response = await fetch(`${sink.baseUrl}/health/ready`)
        expect(response.status).toBe(503)
        bodies.push(await response.text())
      }
      for (const body of bodies) {
        expect((JSON.parse(body) as { message: string }).message).toBe('not ready: KurrentDB is not reachable; the details are in the log')
      }
      const detailLines = sink.lines().filter((line) => line.includes('KurrentDB does not answer the readiness check'))
      expect(detailLines.length).toBeGreaterThan(0)
      expect(detailLines.length).toBeLessThan(bodies.length)
      // Probes are not errors of ours: no error-level line per probe.
      expect(sink.lines().filter((line) => line.includes('"level":"error"') && line.includes('/health/ready'))).toEqual([])
    } finally {
      await emulator.up()
      await sink.stop('SIGKILL')
    }
  }, 60_000)

  test('the API password can be read from a file; it is then in no process argument', async () => {
    const passwordFile = join(emptyDirectory, 'api-password')
    await writeFile(passwordFile, 'pw-from-a-file\n')
    const sink = await startSinkProcess({ kurrentdb: emulator.connectionString, withCredentials: false, args: ['--api-user', 'admin', '--api-password-file', passwordFile] })
    try {
      const authorized = await fetch(`${sink.baseUrl}/connectors`, { headers: { authorization: `Basic ${Buffer.from('admin:pw-from-a-file').toString('base64')}` } })
      expect(authorized.status).toBe(200)
      expect((await fetch(`${sink.baseUrl}/connectors`, { headers: { authorization: `Basic ${Buffer.from('admin:changeit').toString('base64')}` } })).status).toBe(401)
      const commandLine = await Bun.file(`/proc/${sink.pid}/cmdline`).text()
      expect(commandLine).toContain('--api-password-file')
      expect(commandLine).not.toContain('pw-from-a-file')
      expect(sink.lines().some((line) => line.includes('given on the command line'))).toBe(false)
    } finally {
      await sink.stop()
    }
  })

  test('a password given as a flag starts the server, with a warning that names the safer forms', async () => {
    const sink = await startSinkProcess({ kurrentdb: emulator.connectionString, withCredentials: false, args: ['--api-user', 'admin', '--api-password', 'changeit'] })
    try {
      const warning = sink.lines().find((line) => line.includes('"level":"warn"') && line.includes('--api-password was given on the command line'))
      expect(warning).toContain('KAFKA_SINK_API_PASSWORD')
      expect(warning).not.toContain('changeit')
    } finally {
      await sink.stop()
    }
  })

  test('credentials in --kurrentdb never reach the log, even with / in the password', async () => {
    const withCredentials = emulator.connectionString.replace('://', '://admin:pa/ss%2Fword@')
    const sink = await startSinkProcess({ kurrentdb: withCredentials, waitForReady: false })
    try {
      const listening = await sink.waitForLine((line) => line.includes('"kafka-sink listening"'))
      expect(listening).toContain('***@')
      for (const line of sink.lines()) expect(line).not.toContain('pa/ss')
    } finally {
      await sink.stop('SIGKILL')
    }
  })

  test('with --tls-cert-file/--tls-key-file the API is HTTPS: curl --cacert of the CA verifies it, plain HTTP gets nothing', async () => {
    const certificates = await createTestCertificates('kafka-sink api')
    const sink = await startSinkProcess({
      kurrentdb: emulator.connectionString,
      waitForReady: false,
      args: ['--tls-cert-file', join(certificates.dir, 'server.pem')],
      env: { KAFKA_SINK_TLS_KEY_FILE: join(certificates.dir, 'server.key') },
    })
    const curl = async (args: string[]) => {
      const child = Bun.spawn(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', ...args], { stdout: 'pipe', stderr: 'pipe' })
      const [stdout, exitCode] = await Promise.all([new Response(child.stdout).text(), child.exited])
      return { status: stdout.trim(), exitCode }
    }
    try {
      expect(sink.lines().find((line) => line.includes('"kafka-sink listening"'))).toContain('"protocol":"https"')
      expect(await curl(['--cacert', certificates.caFile, `https://127.0.0.1:${sink.port}/health/live`])).toEqual({ status: '200', exitCode: 0 })
      // The connectors load in the background: wait for readiness, as an orchestrator would, over HTTPS.
      let ready = ''
      for (let attempt = 0; attempt < 300 && ready !== '200'; attempt++) {
        ready = (await curl(['--cacert', certificates.caFile, `https://localhost:${sink.port}/health/ready`])).status
        if (ready !== '200') await Bun.sleep(100)
      }
      expect(ready).toBe('200')
      expect(await curl(['--cacert', certificates.caFile, '-u', 'admin:changeit', `https://localhost:${sink.port}/connectors`])).toEqual({ status: '200', exitCode: 0 })
      // Without the CA the certificate is not trusted (curl exit 60); plain HTTP is not served.
      expect((await curl([`https://127.0.0.1:${sink.port}/health/live`])).exitCode).toBe(60)
      expect((await curl([`http://127.0.0.1:${sink.port}/health/live`])).status).not.toBe('200')
    } finally {
      await sink.stop()
      await certificates.remove()
    }
  })

  test('a TLS key file that holds no key stops the start with exit 2 and one line', async () => {
    const certificates = await createTestCertificates('kafka-sink api')
    try {
      const { stderr, exitCode } = await run(['--insecure', '--port', '0', '--tls-cert-file', join(certificates.dir, 'server.pem'), '--tls-key-file', join(certificates.dir, 'server.csr')])
      expect(exitCode).toBe(2)
      expect(stderr).toContain('holds no PEM private key')
    } finally {
      await certificates.remove()
    }
  })

  test('a token given by file is read from the file', async () => {
    const tokenFile = join(emptyDirectory, 'token')
    await writeFile(tokenFile, 'a-token-from-a-file\n')
    const sink = await startSinkProcess({ kurrentdb: emulator.connectionString, args: ['--data-protection-token-file', tokenFile] })
    try {
      const created = await fetch(`${sink.baseUrl}/connectors/token-file-check`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('admin:changeit').toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ settings: { instanceTypeName: 'kafka-sink', topic: 't', 'authentication:securityProtocol': 'SaslPlaintext', 'authentication:username': 'u', 'authentication:password': 'p' } }),
      })
      expect(created.status).toBe(200)
    } finally {
      await sink.stop()
    }
  })
})

describe('the librdkafka engine', () => {
  // It is a NAN addon: Node loads it, Bun and Deno cannot (kafka-engines.ts has their exact errors).
  if (sinkExecutable === 'node') {
    test('--kafka-engine librdkafka starts and becomes ready on Node', async () => {
      const sink = await startSinkProcess({ kurrentdb: emulator.connectionString, args: ['--kafka-engine', 'librdkafka'] })
      expect(await sink.stop('SIGTERM')).toBe(0)
    })
  } else {
    test(`--kafka-engine librdkafka is refused on ${sinkExecutable} in one line that says why: exit 2`, async () => {
      const { stderr, stdout, exitCode } = await run(['--insecure', '--kafka-engine', 'librdkafka'])
      expect(exitCode).toBe(2)
      expect(stderr).toContain('runs only under Node')
      expect(stderr).toContain('NAN')
      expect(stderr.trim().split('\n')).toHaveLength(1)
      expect(stdout).not.toContain('kafka-sink listening')
    })
  }
})

describe('runtime capabilities', () => {
  // node:zlib has zstd from Node 22.15 on. The platformatic engine's asynchronous compressor then threw where the
  // client never observed it: the connector read RUNNING while every send hung. It must stop, saying why.
  const nodeLacksZstd = sinkExecutable === 'node' && Bun.spawnSync([process.env.NODE ?? 'node', '-e', "process.exit(typeof require('node:zlib').zstdCompressSync === 'function' ? 1 : 0)"]).exitCode === 0
  test.if(nodeLacksZstd)('on a Node without zstd, a platformatic connector with zstd stops at once with the reason', async () => {
    const sink = await startSinkProcess({ kurrentdb: emulator.connectionString, args: ['--kafka-engine', 'platformatic'] })
    try {
      const api = sinkApi(sink.baseUrl)
      const settings = { instanceTypeName: 'kafka-sink', topic: 'zstd-check', bootstrapServers: '127.0.0.1:9', 'compression:type': 'zstd' }
      expect((await api.request('POST', '/connectors/zstd-check', { settings })).status).toBe(200)
      expect((await api.request('POST', '/connectors/zstd-check/start')).status).toBe(200)
      const stopped = await api.waitForState('zstd-check', 'CONNECTOR_STATE_STOPPED')
      expect(stopped.errorDetails).toMatchObject({ code: 'UNSUPPORTED_BY_ENGINE' })
      expect((stopped.errorDetails as { message: string }).message).toContain('zstd')
    } finally {
      await sink.stop()
    }
  })
})

describe('the garbage collector sized for a sidecar', () => {
  // The Bun binary re-executes itself once so that JavaScriptCore sizes its heap for 512 MiB (or a lower memory
  // limit) instead of the host's RAM; what a supervisor watches (the process id) must not change.
  const sizingVariable = 'BUN_JSC_forceRAMSize'
  const environmentOf = async (pid: number) => new Map((await Bun.file(`/proc/${pid}/environ`).text()).split('\0').filter(Boolean).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as const))

  if (sinkExecutable === 'bun') {
    test('the serving process is the one that was started, with its command line, now sized for 512 MiB', async () => {
      const sink = await startSinkProcess({ kurrentdb: emulator.connectionString })
      try {
        expect((await environmentOf(sink.pid)).get(sizingVariable)).toBe(String(512 * 1024 * 1024))
        // What `ps` and `pgrep -f` show: the program and the arguments it was started with.
        expect((await Bun.file(`/proc/${sink.pid}/cmdline`).text()).split('\0').filter(Boolean)).toEqual([...sink.commandLine])
        expect((await fetch(`${sink.baseUrl}/health/live`)).status).toBe(200)
      } finally {
        expect(await sink.stop('SIGTERM')).toBe(0)
      }
    })

    test('a size the user set is kept', async () => {
      const sink = await startSinkProcess({ kurrentdb: emulator.connectionString, env: { [sizingVariable]: '1073741824' } })
      try {
        expect((await environmentOf(sink.pid)).get(sizingVariable)).toBe('1073741824')
      } finally {
        await sink.stop()
      }
    })

    // A memory cgroup of our own (cgroup v1's memory controller, where the machine has one we may write).
    const cgroupV1Memory = '/sys/fs/cgroup/memory'
    const canMakeCgroup = existsSync(join(cgroupV1Memory, 'cgroup.procs')) && Bun.spawnSync(['sh', '-c', `mkdir -p ${cgroupV1Memory}/kafka-sink-probe && rmdir ${cgroupV1Memory}/kafka-sink-probe`]).exitCode === 0
    test.if(canMakeCgroup)('inside a cgroup whose memory limit is 300 MiB, the collector is sized for that limit', async () => {
      const group = join(cgroupV1Memory, `kafka-sink-test-${process.pid}`)
      mkdirSync(group)
      try {
        writeFileSync(join(group, 'memory.limit_in_bytes'), String(300 * 1024 * 1024))
        const enter: [string, ...string[]] = ['sh', '-c', `echo $$ > ${group}/cgroup.procs && exec "$@"`, 'sh', ...sinkCommand([])]
        const sink = await startSinkProcess({ kurrentdb: emulator.connectionString, command: enter })
        try {
          expect((await environmentOf(sink.pid)).get(sizingVariable)).toBe(String(300 * 1024 * 1024))
        } finally {
          await sink.stop()
        }
      } finally {
        rmdirSync(group)
      }
    })
  } else {
    test(`${sinkExecutable} is left to size its own heap: nothing is added to its environment`, async () => {
      const sink = await startSinkProcess({ kurrentdb: emulator.connectionString })
      try {
        expect((await environmentOf(sink.pid)).has(sizingVariable)).toBe(false)
      } finally {
        await sink.stop()
      }
    })
  }
})

describe('start-up stays lazy', () => {
  test('the entry point imports no client statically: --version and --help never load KurrentDB or Kafka code', async () => {
    const source = await Bun.file(join(import.meta.dir, '..', '..', 'src', 'main.ts')).text()
    const staticImports = [...source.matchAll(/^import .* from '([^']+)'/gm)].map((match) => match[1])
    expect(staticImports.sort()).toEqual(['../package.json', './cli.ts'])
    expect(source).toContain("await import('./app.ts')")
  })
})
