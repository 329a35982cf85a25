/**
 * `kafka-sink health`: one GET of the liveness route with a short timeout, for container HEALTHCHECKs on images that
 * hold nothing but this binary. Exit 0 when it answers 200, 1 otherwise, with one line saying why.
 */
const probeTimeoutMs = 3_000

export async function probeHealth(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(probeTimeoutMs) })
    if (response.status === 200) return 0
    process.stderr.write(`kafka-sink health: ${url} answered ${response.status}\n`)
  } catch (error) {
    const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${probeTimeoutMs} ms` : 'not reachable'
    process.stderr.write(`kafka-sink health: ${url} is ${reason}\n`)
  }
  return 1
}
