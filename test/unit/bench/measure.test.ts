/**
 * The benchmark's CPU figures come from /proc; the runtime's own `process.cpuUsage()` (getrusage) is the oracle for
 * the whole process, and a worker thread that spins while the event loop sleeps tells the main thread's figure from
 * the process's.
 */
import { describe, expect, test } from 'bun:test'
import { mainThreadCpuMicros, processCpuMicros } from '../../../scripts/benchmark/measure.ts'

/** /proc counts CPU in clock ticks of 10 ms; allow a few of them either way. */
const tickSlackMicros = 40_000

function spin(milliseconds: number): void {
  const until = performance.now() + milliseconds
  while (performance.now() < until) {
    // busy on purpose
  }
}

const usageMicros = () => {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}

describe('CPU figures read from /proc', () => {
  test("the process's figure agrees with getrusage, and the event loop spinning shows in the main thread's", async () => {
    const [processBefore, mainBefore, usageBefore] = [await processCpuMicros('self'), await mainThreadCpuMicros('self'), usageMicros()]
    spin(400)
    const [processAfter, mainAfter, usageAfter] = [await processCpuMicros('self'), await mainThreadCpuMicros('self'), usageMicros()]
    const processDelta = processAfter - processBefore
    const mainDelta = mainAfter - mainBefore
    const usageDelta = usageAfter - usageBefore
    expect(Math.abs(processDelta - usageDelta)).toBeLessThanOrEqual(tickSlackMicros)
    expect(mainDelta).toBeLessThanOrEqual(processDelta + tickSlackMicros)
    // The spin ran on the main thread: nearly all of the process's CPU over it is the main thread's.
    expect(mainDelta).toBeGreaterThanOrEqual(usageDelta * 0.6)
  })

  test("a worker thread's CPU counts for the process, not for the main thread", async () => {
    const source = `self.onmessage = () => { const until = performance.now() + 500; while (performance.now() < until) {} postMessage('done') }`
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'application/javascript' })))
    try {
      await new Promise<void>((resolve) => {
        worker.onmessage = () => resolve()
        worker.postMessage('warm up')
      })
      const [processBefore, mainBefore] = [await processCpuMicros('self'), await mainThreadCpuMicros('self')]
      await new Promise<void>((resolve) => {
        worker.onmessage = () => resolve()
        worker.postMessage('spin')
      })
      const processDelta = (await processCpuMicros('self')) - processBefore
      const mainDelta = (await mainThreadCpuMicros('self')) - mainBefore
      // At least a fifth of its 500 ms even on a machine busy with other work.
      expect(processDelta).toBeGreaterThanOrEqual(100_000)
      // The event loop only waited for the worker's message.
      expect(mainDelta).toBeLessThan(processDelta * 0.3)
    } finally {
      worker.terminate()
    }
  })
})
