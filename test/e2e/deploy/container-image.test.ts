/**
 * The container image built from deploy/Dockerfile (scripts/image, buildah without a daemon), run from the image's
 * own root filesystem: its configuration as an orchestrator reads it, and the binary serving and delivering from a
 * root that holds nothing else, as the unprivileged user, configured only by environment variables, as a container
 * runtime starts it (chroot into the image's root, with /proc and /dev as every runtime mounts them).
 * Needs root (chroot, mount) and buildah; ./scripts/test runs as root and the bootstrap installs buildah.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { execFileSync, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { baseSettings, payloadOf, startRig, type Rig } from '../../support/rig.ts'
import { sinkApi, startSinkProcess, type SinkProcess } from '../../support/sink-process.ts'
import { freePort } from '../../support/free-port.ts'

const projectRoot = join(import.meta.dir, '..', '..', '..')
const imageTag = `localhost/kafka-sink:e2e-${randomUUID().slice(0, 8)}`
const storage = ['--storage-driver', 'vfs']
const unprivileged = 65532

interface ImageConfig {
  User: string
  Env: string[]
  Entrypoint: string[]
  Cmd: string[]
  Healthcheck: { Test: string[] }
  ExposedPorts: Record<string, unknown>
  StopSignal: string
}

let rig: Rig
let container: string
let root: string
let config: ImageConfig
const mounted: string[] = []

function buildah(...args: string[]): string {
  return execFileSync('buildah', [...storage, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
}


/** Runs a command inside the image's root as the image's user, as `docker exec` would; resolves with its exit code. */
function runInImage(command: readonly string[], env: Record<string, string>): { status: number | null; stderr: string } {
  const result = spawnSync('chroot', [`--userspec=${config.User}`, root, ...command], { env, encoding: 'utf8', timeout: 10_000 })
  return { status: result.status, stderr: result.stderr }
}

beforeAll(async () => {
  rig = await startRig({ brokers: 1 })
  const built = spawnSync(join(projectRoot, 'scripts', 'image'), ['--local-build-stage', '--tag', imageTag], { cwd: projectRoot, encoding: 'utf8' })
  if (built.status !== 0) throw new Error(`scripts/image failed (${built.status}):\n${built.stderr.slice(-3000)}`)
  const inspected = JSON.parse(buildah('inspect', '--type', 'image', imageTag)) as { Docker: { config: ImageConfig } }
  config = inspected.Docker.config
  container = buildah('from', imageTag)
  root = buildah('mount', container)
  for (const [target, mount] of [['proc', ['-t', 'proc', 'proc']], ['dev', ['--bind', '/dev']]] as const) {
    mkdirSync(join(root, target), { recursive: true })
    execFileSync('mount', [...mount, join(root, target)])
    mounted.push(join(root, target))
  }
}, 180_000)

afterAll(async () => {
  for (const path of mounted.reverse()) spawnSync('umount', ['-l', path])
  if (container !== undefined) spawnSync('buildah', [...storage, 'rm', container])
  spawnSync('buildah', [...storage, 'rmi', '-f', imageTag])
  await rig?.close()
})

describe('the container image (deploy/Dockerfile)', () => {
  test('runs the binary as an unprivileged user, probes /health/live with the binary itself, stops on SIGTERM', () => {
    expect(config.User).toBe(`${unprivileged}:${unprivileged}`)
    expect(config.Entrypoint).toEqual(['/usr/local/bin/kafka-sink'])
    expect(config.Cmd).toEqual(['serve'])
    expect(config.Healthcheck.Test).toEqual(['CMD', '/usr/local/bin/kafka-sink', 'health'])
    expect(Object.keys(config.ExposedPorts)).toEqual(['2114/tcp'])
    expect(config.StopSignal).toBe('SIGTERM')
    // Nothing secret is baked in: credentials and the token come from the runtime's environment or mounted files.
    expect(config.Env.filter((entry) => /PASSWORD|TOKEN|SECRET/i.test(entry))).toEqual([])
  })

  test('holds only the binary, glibc and what it needs: no shell, no package manager', () => {
    const files: string[] = []
    const walk = (directory: string) => {
      for (const entry of readdirSync(join(root, directory))) {
        const relative = join(directory, entry)
        if (relative === '/proc' || relative === '/dev') continue
        if (statSync(join(root, relative)).isDirectory()) walk(relative)
        else files.push(relative)
      }
    }
    walk('/')
    expect(files).toContain('/usr/local/bin/kafka-sink')
    expect(files).toContain('/etc/passwd')
    expect(files.some((file) => file.endsWith('/libc.so.6'))).toBe(true)
    expect(files.filter((file) => !/^\/(usr\/local\/bin\/kafka-sink|etc\/(passwd|group|nsswitch\.conf|ssl\/certs\/ca-certificates\.crt)|lib(64)?\/.*\.so(\.\d+)*)$/.test(file))).toEqual([])
    expect(existsSync(join(root, 'bin', 'sh'))).toBe(false)
  })

  test('serves and delivers from the image root, configured only through KAFKA_SINK_* variables', async () => {
    const topic = await rig.createTopic({ replicationFactor: 1 })
    const stream = `Image-${randomUUID().slice(0, 8)}`
    // A secret mounted as a file, as a Kubernetes Secret or a compose secret is, readable by the image's user only.
    mkdirSync(join(root, 'run', 'secrets'), { recursive: true })
    const tokenFile = join(root, 'run', 'secrets', 'data-protection-token')
    writeFileSync(tokenFile, 'image-test-token\n')
    chownSync(tokenFile, unprivileged, unprivileged)
    chmodSync(tokenFile, 0o400)

    const port = await freePort()
    const imageEnv = Object.fromEntries(config.Env.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]))
    const env = { ...imageEnv, KAFKA_SINK_PORT: String(port), KAFKA_SINK_DATA_PROTECTION_TOKEN_FILE: '/run/secrets/data-protection-token' }
    const sink: SinkProcess = await startSinkProcess({
      kurrentdb: rig.emulator.connectionString,
      command: ['chroot', `--userspec=${config.User}`, root, ...config.Entrypoint, ...config.Cmd],
      configureThroughEnvironment: true,
      env,
    })
    try {
      expect(sink.port).toBe(port)
      const uid = readFileSync(`/proc/${sink.pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)?.[1]
      expect(uid).toBe(String(unprivileged))
      expect(runInImage(config.Healthcheck.Test.slice(1), env).status).toBe(0)

      const api = sinkApi(sink.baseUrl)
      const created = await api.request('POST', '/connectors/from-image', {
        settings: baseSettings(topic, rig.broker.bootstrapServers, { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': stream }),
      })
      expect(created.status, created.text).toBe(200)
      expect((await api.request('POST', '/connectors/from-image/start')).status).toBe(200)
      await rig.appendEvents(stream, 5)
      const records = await rig.readTopic(topic, 5)
      expect(records.map((record) => payloadOf(record).seq)).toEqual([0, 1, 2, 3, 4])
    } finally {
      expect(await sink.stop('SIGTERM')).toBe(0)
    }
    const afterStop = runInImage(config.Healthcheck.Test.slice(1), env)
    expect(afterStop.status).toBe(1)
    expect(afterStop.stderr).toContain(`http://127.0.0.1:${port}/health/live`)
  })
})
