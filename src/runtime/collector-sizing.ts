/**
 * The Bun binary's JavaScript engine (JavaScriptCore) decides how much garbage its heap may hold between collections
 * from the RAM it believes it has, read once at start-up: the host's physical memory, whatever a container's memory
 * limit says. On a 24 GiB host a connector draining a backlog peaked near 300 MB, most of it garbage waiting for a
 * collection; sized for 512 MiB it peaks ~60 MB lower for the same CPU (bench/README.md). Inside a container whose
 * limit is below that, the limit is what the collector must respect, or the kernel kills the sink first.
 *
 * JavaScriptCore takes that size from the environment variable BUN_JSC_forceRAMSize, only at start-up. So the
 * binary, when serving, re-executes itself once with it set: the same process id, command line and open descriptors
 * (what a supervisor, `ps` or a container runtime watches stay the same). A value the user set is kept as it is. Node and
 * Deno size their heaps their own way (Node: --max-old-space-size), so nothing changes there.
 */

import { readFileSync } from 'node:fs'
import { currentRuntime } from './runtime.ts'

export const collectorSizingVariable = 'BUN_JSC_forceRAMSize'

/** What the collector is sized for when no memory limit is lower. */
export const defaultCollectorRamBytes = 512 * 1024 * 1024

export interface CollectorSizingContext {
  /** Only the Bun single binary re-executes: `bun src/main.ts` would need its script path handled too. */
  readonly isBunBinary: boolean
  readonly execPath: string
  /** `process.argv`: for the Bun binary, [runtime, embedded entry, ...the user's arguments]. */
  readonly argv: readonly string[]
  /**
   * Reads the program name this process was started with (the first word of its command line, e.g. `kafka-sink`
   * found on PATH), when it can be read: the binary's `process.argv[0]` says `bun` instead. Only called when re-executing.
   */
  readonly readInvokedAs: () => string | undefined
  readonly env: Readonly<Record<string, string | undefined>>
  /** Reads the memory limit of this process's cgroup in bytes, if one is set: only called when re-executing. */
  readonly readMemoryLimit: () => number | undefined
}

export interface Reexecution {
  readonly file: string
  readonly args: readonly string[]
  readonly env: Record<string, string>
}

/** The re-execution that sizes the collector, or undefined when this process needs none. */
export function collectorSizingReexecution(context: CollectorSizingContext): Reexecution | undefined {
  if (!context.isBunBinary || context.env[collectorSizingVariable] !== undefined) return undefined
  const limit = context.readMemoryLimit()
  const ramBytes = limit !== undefined && limit > 0 && limit < defaultCollectorRamBytes ? limit : defaultCollectorRamBytes
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(context.env)) if (value !== undefined) env[name] = value
  env[collectorSizingVariable] = String(ramBytes)
  return { file: context.execPath, args: [context.readInvokedAs() ?? context.execPath, ...context.argv.slice(2)], env }
}

/**
 * A cgroup's memory limit as its file states it: cgroup v2's memory.max holds `max` when unlimited, v1's
 * memory.limit_in_bytes a huge number (a page-rounded 2^63 - 1) that means the same.
 */
export function parseCgroupMemoryLimit(text: string): number | undefined {
  const value = text.trim()
  if (!/^[0-9]{1,20}$/.test(value)) return undefined
  const bytes = Number(value)
  return bytes > 0 && bytes < 2 ** 62 ? bytes : undefined
}

/**
 * The files that may hold a memory limit for this process, from /proc/self/cgroup: for cgroup v2 (line `0::PATH`)
 * memory.max, for v1's memory controller (`N:memory:PATH`) memory.limit_in_bytes, of its cgroup and of every
 * ancestor, since the lowest applies (a systemd unit's MemoryMax= sits in its own cgroup; inside a container its
 * cgroup is the root of what it sees, while /proc/self/cgroup may still name the host's path).
 */
export function memoryLimitFiles(procSelfCgroup: string): string[] {
  const files: string[] = []
  for (const line of procSelfCgroup.split('\n')) {
    const [, controllers, path] = /^[0-9]+:([^:]*):(.*)$/.exec(line.trim()) ?? []
    if (path === undefined) continue
    const layout = controllers === '' ? { root: '/sys/fs/cgroup', file: 'memory.max' } : controllers!.split(',').includes('memory') ? { root: '/sys/fs/cgroup/memory', file: 'memory.limit_in_bytes' } : undefined
    if (layout === undefined) continue
    const parts = path.split('/').filter((part) => part !== '' && part !== '.' && part !== '..')
    for (let depth = parts.length; depth >= 0; depth--) files.push([layout.root, ...parts.slice(0, depth), layout.file].join('/'))
  }
  return files
}

/**
 * Re-executes the Bun binary with its collector sized (see above) when it needs to; returns only when it did not
 * (or could not: then the sink runs with the engine's own sizing, as it would have anyway).
 */
export function sizeCollectorByReexecuting(): void {
  const execve = (process as { execve?: (file: string, args: readonly string[], env: Record<string, string>) => never }).execve
  if (execve === undefined) return
  const isBunBinary = currentRuntime() === 'bun' && (process.argv[1] ?? '').startsWith('/$bunfs/')
  const reexecution = collectorSizingReexecution({ isBunBinary, execPath: process.execPath, argv: process.argv, readInvokedAs, env: process.env, readMemoryLimit })
  if (reexecution === undefined) return
  try {
    execve(reexecution.file, reexecution.args, reexecution.env)
  } catch {
    // Not fatal: the collector keeps the engine's own sizing.
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined // not this cgroup version, or no cgroup file system
  }
}

/** The first entry of the NUL-separated /proc/self/cmdline: argv[0] exactly as the process was executed with it. */
function readInvokedAs(): string | undefined {
  const first = readText('/proc/self/cmdline')?.split('\0')[0]
  return first === undefined || first === '' ? undefined : first
}

function readMemoryLimit(): number | undefined {
  let lowest: number | undefined
  for (const file of memoryLimitFiles(readText('/proc/self/cgroup') ?? '')) {
    const text = readText(file)
    const limit = text === undefined ? undefined : parseCgroupMemoryLimit(text)
    if (limit !== undefined && (lowest === undefined || limit < lowest)) lowest = limit
  }
  return lowest
}
