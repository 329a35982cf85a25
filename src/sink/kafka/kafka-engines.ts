/**
 * The Kafka engines kafka-sink can run, and where each can run. `platformatic` (@platformatic/kafka, pure
 * TypeScript) runs everywhere and is the default; `librdkafka` (@confluentinc/kafka-javascript) is a native addon
 * written against NAN, the V8/Node C++ API, so only Node loads it (measured with Bun 1.4.5 and Deno 2.9.6).
 */
import { currentRuntime, runtimeDescription, type RuntimeName } from '../../runtime/runtime.ts'

export const kafkaEngineNames = ['platformatic', 'librdkafka'] as const
export type KafkaEngineName = (typeof kafkaEngineNames)[number]
export const defaultKafkaEngine: KafkaEngineName = 'platformatic'

const librdkafkaRefusals: Partial<Record<RuntimeName, string>> = {
  // Bun: "The module 'kafka' was compiled against a different Node.js ABI version using NODE_MODULE_VERSION 115.
  // This version of Bun requires NODE_MODULE_VERSION 147", and a build against Bun's ABI would still lack 15 of
  // the V8/Node symbols the addon links to (uv_queue_work and uv_rwlock_* panic).
  bun: 'its native addon is built with NAN for Node, and Bun can load neither a Node ABI build nor the V8 internals NAN uses',
  // Deno: "it was built against the legacy Node.js native addon API (NODE_MODULE / nan), which Deno does not support".
  deno: 'its native addon is built with NAN (the V8/Node C++ API), and Deno loads only Node-API addons',
}

/** Why `engine` cannot run on this runtime, as one sentence; undefined when it can. */
export function kafkaEngineUnavailableReason(engine: KafkaEngineName, runtime: RuntimeName = currentRuntime()): string | undefined {
  if (engine !== 'librdkafka') return undefined
  const refusal = librdkafkaRefusals[runtime]
  return refusal === undefined
    ? undefined
    : `the librdkafka engine runs only under Node (${runtimeDescription()} here): ${refusal}; run the Node bundle (node dist/node/kafka-sink.mjs) or use --kafka-engine platformatic`
}
