/**
 * Which partitions of a failed send @platformatic/kafka still confirmed. The client sends one Produce request per
 * leader broker and, when some of them fail, rejects the whole send but attaches the partitions that were written
 * to the error as `produced.offsets` (producer.js, #performSend). Those messages are delivered; reporting them as
 * failed would only make the pipeline send them again (duplicates). Pure, and never throws: it reads an error of
 * any shape.
 */

const nothingConfirmed: ReadonlySet<number> = new Set()

/** Partitions of `topic` the broker confirmed although the send failed; empty when the error says none. */
export function partitionsConfirmedDespite(error: unknown, topic: string): ReadonlySet<number> {
  // Boundary with the client: `produced` is an undeclared property it adds to the error object.
  const produced = (error as { produced?: { offsets?: unknown } } | null)?.produced
  const offsets = produced?.offsets
  if (!Array.isArray(offsets)) return nothingConfirmed
  const confirmed = new Set<number>()
  for (const entry of offsets as ({ topic?: unknown; partition?: unknown } | null)[]) {
    if (entry?.topic === topic && typeof entry.partition === 'number') confirmed.add(entry.partition)
  }
  return confirmed
}
