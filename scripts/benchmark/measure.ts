/**
 * Measuring helpers for the benchmark: a progress line while a phase runs, rates, percentiles, and the memory of
 * another process read from /proc.
 */
import { readFile } from 'node:fs/promises'

/** Prints `phase: count so far, current rate` about once a second, on stderr so stdout keeps only the report. */
export function createProgress(phase: string, unit: string, total?: number) {
  const started = performance.now()
  let lastPrinted = started
  let lastCount = 0
  return {
    update(count: number) {
      const now = performance.now()
      if (now - lastPrinted < 1_000) return
      const rate = ((count - lastCount) * 1_000) / (now - lastPrinted)
      const of = total === undefined ? '' : ` of ${total.toLocaleString('en')}`
      process.stderr.write(`  [${phase}] ${count.toLocaleString('en')}${of} ${unit}, ${Math.round(rate).toLocaleString('en')} ${unit}/s now\n`)
      lastPrinted = now
      lastCount = count
    },
    elapsedSeconds: () => (performance.now() - started) / 1_000,
  }
}

export function perSecond(count: number, seconds: number): number {
  return seconds > 0 ? Math.round(count / seconds) : 0
}

export function percentile(sortedValues: readonly number[], fraction: number): number {
  if (sortedValues.length === 0) return Number.NaN
  const index = Math.min(sortedValues.length - 1, Math.max(0, Math.ceil(fraction * sortedValues.length) - 1))
  return sortedValues[index]!
}

/**
 * Current and peak resident memory of a process, in MB (`VmRSS`, `VmHWM` of /proc/PID/status), and the part of the
 * current figure that is its own (`RssAnon`): the rest is pages of files it maps, mostly the executable itself, which
 * are shared and which the kernel can drop and read again under memory pressure.
 */
export async function processMemory(pid: number): Promise<{ rssMb: number; peakMb: number; privateMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kilobytes = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
  return { rssMb: kilobytes('VmRSS') / 1024, peakMb: kilobytes('VmHWM') / 1024, privateMb: kilobytes('RssAnon') / 1024 }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the samples in MB. */
export function sampleMemory(pid: number, everyMs = 250) {
  const samples: number[] = []
  const timer = setInterval(() => {
    processMemory(pid).then(
      (memory) => samples.push(memory.rssMb),
      () => {},
    )
  }, everyMs)
  return {
    stop: () => {
      clearInterval(timer)
      return samples
    },
  }
}

/** Clock ticks per second of /proc/PID/stat's CPU times (`getconf CLK_TCK`: 100 on Linux on every common architecture). */
const clockTicksPerSecond = 100

/** User + system CPU a process has used so far, in microseconds (`utime` + `stime` of /proc/PID/stat). */
export async function processCpuMicros(pid: number | 'self'): Promise<number> {
  return cpuMicrosOfStatLine(await readFile(`/proc/${pid}/stat`, 'utf8'))
}

/**
 * User + system CPU of a process's main thread so far (the thread whose id is the process id: the event loop), in
 * microseconds, from /proc/PID/task/PID/stat. Beside the whole process's figure it tells whether the event loop
 * is what is full: the collector's helpers, the JIT compiler and the thread pool count only in the process's.
 */
export async function mainThreadCpuMicros(pid: number | 'self'): Promise<number> {
  const id = pid === 'self' ? process.pid : pid
  return cpuMicrosOfStatLine(await readFile(`/proc/${id}/task/${id}/stat`, 'utf8'))
}

/** utime + stime of a /proc stat line (a process's or a thread's: the same layout), in microseconds. */
function cpuMicrosOfStatLine(stat: string): number {
  // The command name (field 2) may hold spaces and parentheses: the fields after it start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 of what follows the name (state is the first).
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / clockTicksPerSecond
}

/**
 * Busy CPU of the whole machine so far, in microseconds: every CPU's time in /proc/stat's first line except idle and
 * iowait (user, nice, system, irq, softirq, steal; guest time is already inside user).
 */
export async function machineBusyMicros(): Promise<number> {
  const first = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!
  const [user, nice, system, , , irq, softirq, steal] = first.trim().split(/\s+/).slice(1).map(Number)
  return ((user! + nice! + system! + irq! + softirq! + (steal ?? 0)) * 1_000_000) / clockTicksPerSecond
}

/**
 * This process's own CPU (user + system) from now until `stop(items)`: µs per item and cores. Read with
 * `process.cpuUsage`, to the microsecond: light-traffic figures are a few hundred ms of CPU, where /proc's 10 ms ticks
 * would be several percent.
 */
export function startOwnCpuMeter() {
  const cpuAtStart = process.cpuUsage()
  const wallAtStart = performance.now()
  return {
    stop(items: number) {
      const used = process.cpuUsage(cpuAtStart)
      const cpuMicros = used.user + used.system
      return { usPerItem: Math.round(cpuMicros / items), cores: (cpuMicros / ((performance.now() - wallAtStart) * 1_000)).toFixed(3) }
    },
  }
}

/**
 * CPU used by a process between `start()` and `stop()`: per event and in cores (CPU seconds per wall second). Also
 * the whole machine's, which counts the other side of the phase too (KurrentDB, the brokers): on a machine that all
 * of them share, what one event costs everywhere bounds the rate more than any one process does.
 */
export async function startCpuMeter(pid: number | 'self') {
  const [cpuAtStart, mainThreadAtStart, machineAtStart] = await Promise.all([processCpuMicros(pid), mainThreadCpuMicros(pid), machineBusyMicros()])
  const wallAtStart = performance.now()
  return {
    async stop(events: number) {
      const [cpuAtEnd, mainThreadAtEnd, machineAtEnd] = await Promise.all([processCpuMicros(pid), mainThreadCpuMicros(pid), machineBusyMicros()])
      const cpuMicros = cpuAtEnd - cpuAtStart
      const machineMicros = machineAtEnd - machineAtStart
      const wallMicros = (performance.now() - wallAtStart) * 1_000
      const perEvent = (micros: number) => round(events > 0 ? micros / events : Number.NaN)
      return {
        cpuSeconds: round(cpuMicros / 1_000_000, 2),
        cpuUsPerEvent: perEvent(cpuMicros),
        cores: round(cpuMicros / wallMicros, 3),
        /** Of one core: how busy the event loop's thread was (1 means it was never idle). */
        mainThreadCores: round((mainThreadAtEnd - mainThreadAtStart) / wallMicros, 2),
        machineUsPerEvent: perEvent(machineMicros),
        machineCores: round(machineMicros / wallMicros, 2),
      }
    },
  }
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

