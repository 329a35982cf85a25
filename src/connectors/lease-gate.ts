/**
 * A run under a lease: its Kafka sends and its checkpoint writes wait for a fresh lease, and its checkpoints are
 * appended with an expected revision. The first write of a run (the fence) restates where it starts, marked with
 * its activation and lease term; from then on a former owner's expected revision is stale, so it can no longer move
 * the checkpoint. Only a confirmed lease holder may adopt the checkpoint stream's current revision after a conflict.
 */
import type { KafkaPort } from '../sink/kafka/port.ts'
import type { CheckpointEntry, ConnectorStore, StoredCheckpoint } from './connector-store.ts'
import { OwnershipLostError, type LeaseHandle } from './ownership-coordinator.ts'

export interface FencedCheckpoints {
  /** Where the run starts, as `chooseStart` decided. */
  readonly startFrom: StoredCheckpoint | undefined
  write(checkpoint: StoredCheckpoint): Promise<void>
}

/**
 * Reads the last checkpoint, lets `chooseStart` decide where the run starts from it, and writes that as the fence.
 * `activation` marks every checkpoint the run writes, so the next owner knows which activation wrote it.
 */
export async function openFencedCheckpoints(
  store: ConnectorStore,
  connectorId: string,
  lease: LeaseHandle,
  chooseStart: (last: CheckpointEntry) => Promise<StoredCheckpoint | undefined>,
  activation: number,
): Promise<FencedCheckpoints> {
  const entry = await store.readCheckpointEntry(connectorId)
  const startFrom = await chooseStart(entry)
  let expectedRevision = entry.revision
  const writer = { activation, term: lease.term }

  const write = async (checkpoint: StoredCheckpoint | undefined): Promise<void> => {
    await lease.untilValid()
    let outcome = await store.appendCheckpoint(connectorId, checkpoint, writer, expectedRevision)
    if (!outcome.written) {
      if (!(await lease.confirm())) throw new OwnershipLostError(`connector ${connectorId}: another instance owns it now; this checkpoint is not written`)
      outcome = await store.appendCheckpoint(connectorId, checkpoint, writer, outcome.actualRevision)
      if (!outcome.written) throw new OwnershipLostError(`connector ${connectorId}: its checkpoints are being written by another instance`)
    }
    expectedRevision = outcome.revision
  }

  await write(startFrom)
  return { startFrom, write }
}

/** The run's Kafka port, producing only while the lease is fresh. */
export function gateKafkaPort(port: KafkaPort, lease: LeaseHandle): KafkaPort {
  return {
    connect: () => port.connect(),
    send: async (topic, messages) => {
      await lease.untilValid()
      return port.send(topic, messages)
    },
    close: (options) => port.close(options),
  }
}
