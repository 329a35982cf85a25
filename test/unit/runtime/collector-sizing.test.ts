import { describe, expect, test } from 'bun:test'
import { collectorSizingReexecution, defaultCollectorRamBytes, memoryLimitFiles, parseCgroupMemoryLimit } from '../../../src/runtime/collector-sizing.ts'

const binary = {
  isBunBinary: true,
  execPath: '/usr/local/bin/kafka-sink',
  argv: ['bun', '/$bunfs/root/kafka-sink', '--port', '2113', '--api-password-file', '/run/secrets/api'],
  readInvokedAs: () => 'kafka-sink',
  env: { HOME: '/home/sink', KAFKA_SINK_HOST: '0.0.0.0', UNSET: undefined },
  readMemoryLimit: () => undefined,
}

describe('collectorSizingReexecution', () => {
  test("the binary runs itself again with the user's arguments and environment, plus the collector's size", () => {
    const reexecution = collectorSizingReexecution(binary)
    expect(reexecution).toEqual({
      file: '/usr/local/bin/kafka-sink',
      // execve's argument list starts with the program name as it was invoked (what `ps` shows; Bun's argv[0] says
      // `bun`); the embedded entry is not an argument of the user's.
      args: ['kafka-sink', '--port', '2113', '--api-password-file', '/run/secrets/api'],
      env: { HOME: '/home/sink', KAFKA_SINK_HOST: '0.0.0.0', BUN_JSC_forceRAMSize: String(512 * 1024 * 1024) },
    })
  })

  test('where the command line cannot be read, the program name is the executable path', () => {
    expect(collectorSizingReexecution({ ...binary, readInvokedAs: () => undefined })?.args[0]).toBe('/usr/local/bin/kafka-sink')
  })

  test('once: a process that has the variable (the re-executed one, or a user who set it) runs as it is', () => {
    expect(collectorSizingReexecution({ ...binary, env: { ...binary.env, BUN_JSC_forceRAMSize: '536870912' } })).toBeUndefined()
    expect(collectorSizingReexecution({ ...binary, env: { BUN_JSC_forceRAMSize: '4294967296' } })).toBeUndefined()
  })

  test('the cgroup files and the command line are read only when the binary re-executes, not again in the re-executed process', () => {
    const unread = () => {
      throw new Error('read although nothing re-executes')
    }
    const unreadFiles = { readMemoryLimit: unread, readInvokedAs: unread }
    expect(collectorSizingReexecution({ ...binary, env: { BUN_JSC_forceRAMSize: '536870912' }, ...unreadFiles })).toBeUndefined()
    expect(collectorSizingReexecution({ ...binary, isBunBinary: false, ...unreadFiles })).toBeUndefined()
  })

  test('only the Bun binary: the sources under a runtime, and the Node bundle, are left alone', () => {
    expect(collectorSizingReexecution({ ...binary, isBunBinary: false })).toBeUndefined()
  })

  test('a memory limit below 512 MiB is what the collector is sized for; a higher one changes nothing', () => {
    expect(collectorSizingReexecution({ ...binary, readMemoryLimit: () => 256 * 1024 * 1024 })?.env.BUN_JSC_forceRAMSize).toBe(String(256 * 1024 * 1024))
    expect(collectorSizingReexecution({ ...binary, readMemoryLimit: () => 8 * 1024 ** 3 })?.env.BUN_JSC_forceRAMSize).toBe(String(defaultCollectorRamBytes))
    expect(defaultCollectorRamBytes).toBe(512 * 1024 * 1024)
  })
})

describe('parseCgroupMemoryLimit', () => {
  test("a number of bytes is a limit; cgroup v2's `max` and v1's page-rounded 2^63 - 1 mean none", () => {
    expect(parseCgroupMemoryLimit('268435456\n')).toBe(268_435_456)
    expect(parseCgroupMemoryLimit('max\n')).toBeUndefined()
    expect(parseCgroupMemoryLimit('9223372036854771712\n')).toBeUndefined()
    expect(parseCgroupMemoryLimit('')).toBeUndefined()
    expect(parseCgroupMemoryLimit('0')).toBeUndefined()
  })
})

describe('memoryLimitFiles', () => {
  test('cgroup v2: memory.max of the cgroup and of each ancestor, up to the root', () => {
    expect(memoryLimitFiles('0::/system.slice/kafka-sink.service\n')).toEqual([
      '/sys/fs/cgroup/system.slice/kafka-sink.service/memory.max',
      '/sys/fs/cgroup/system.slice/memory.max',
      '/sys/fs/cgroup/memory.max',
    ])
    expect(memoryLimitFiles('0::/\n')).toEqual(['/sys/fs/cgroup/memory.max'])
  })

  test("cgroup v1: the memory controller's memory.limit_in_bytes the same way; other controllers are not read", () => {
    expect(memoryLimitFiles('5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n1:name=systemd:/docker/abc\n')).toEqual([
      '/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes',
      '/sys/fs/cgroup/memory/docker/memory.limit_in_bytes',
      '/sys/fs/cgroup/memory/memory.limit_in_bytes',
    ])
  })

  test('no /proc/self/cgroup (not Linux, or not mounted): nothing to read', () => {
    expect(memoryLimitFiles('')).toEqual([])
  })
})
