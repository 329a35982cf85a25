/**
 * Why a run stopped, as the `errorDetails` a user reads in `GET /connectors`: a stable code (the Kafka error name
 * when Kafka gave one, else the error's kind) and a message with the chain of causes, never a stack trace.
 */
import { DeliveryFailedError, RetriesExhaustedError } from '../pipeline/deliver-batch.ts'
import { CheckpointCommitFailedError } from '../pipeline/run-connector.ts'
import { KafkaSendError } from '../sink/kafka/errors.ts'
import type { ErrorDetails } from './connector-history.ts'
import { accessRefusedMessage, isAccessRefused } from '../source/kurrentdb-access.ts'

export function describeFailure(error: unknown): ErrorDetails {
  if (isAccessRefused(error)) return { code: 'ACCESS_DENIED', message: accessRefusedMessage(error) }
  if (error instanceof DeliveryFailedError) return { code: error.kafkaError.kafkaName ?? error.kafkaError.code, message: messageChain(error) }
  if (error instanceof RetriesExhaustedError) return { code: 'RETRIES_EXHAUSTED', message: messageChain(error) }
  if (error instanceof CheckpointCommitFailedError) return { code: 'CHECKPOINT_COMMIT_FAILED', message: messageChain(error) }
  if (error instanceof KafkaSendError) return { code: error.kafkaName ?? error.code, message: messageChain(error) }
  if (error instanceof Error) return { code: error.name, message: messageChain(error) }
  return { code: 'Error', message: String(error) }
}

function messageChain(error: Error): string {
  const parts: string[] = [error.message]
  let cause = error.cause
  for (let depth = 0; depth < 3 && cause instanceof Error; depth++) {
    if (!parts.some((part) => part.includes(cause instanceof Error ? cause.message : ''))) parts.push(cause.message)
    cause = cause.cause
  }
  return parts.join(': ')
}
