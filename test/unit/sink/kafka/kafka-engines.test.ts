// Where each Kafka engine runs, as the README's "Runtimes and Kafka engines" says: platformatic on every runtime,
// librdkafka (a NAN addon) only under Node; on Bun and Deno the choice is refused with one sentence saying why and
// what to run instead.
import { describe, expect, test } from 'bun:test'
import { defaultKafkaEngine, kafkaEngineNames, kafkaEngineUnavailableReason } from '../../../../src/sink/kafka/kafka-engines.ts'
import { runtimeDescription } from '../../../../src/runtime/runtime.ts'

describe('kafkaEngineUnavailableReason', () => {
  test('the platformatic engine (the default) runs on Bun, Deno and Node', () => {
    expect(defaultKafkaEngine).toBe('platformatic')
    expect(kafkaEngineNames).toEqual(['platformatic', 'librdkafka'])
    for (const runtime of ['bun', 'deno', 'node'] as const) expect(kafkaEngineUnavailableReason('platformatic', runtime)).toBeUndefined()
  })

  test('the librdkafka engine runs under Node', () => {
    expect(kafkaEngineUnavailableReason('librdkafka', 'node')).toBeUndefined()
  })

  test('under Bun it is refused: a NAN addon Bun cannot load; the sentence says what to run instead', () => {
    const reason = kafkaEngineUnavailableReason('librdkafka', 'bun')
    expect(reason).toStartWith(`the librdkafka engine runs only under Node (${runtimeDescription()} here): `)
    expect(reason).toContain('built with NAN for Node')
    expect(reason).toContain('Bun can load neither a Node ABI build nor the V8 internals NAN uses')
    expect(reason).toEndWith('; run the Node bundle (node dist/node/kafka-sink.mjs) or use --kafka-engine platformatic')
  })

  test('under Deno it is refused: Deno loads only Node-API addons', () => {
    const reason = kafkaEngineUnavailableReason('librdkafka', 'deno')
    expect(reason).toStartWith('the librdkafka engine runs only under Node (')
    expect(reason).toContain('built with NAN (the V8/Node C++ API), and Deno loads only Node-API addons')
    expect(reason).toContain('--kafka-engine platformatic')
  })

  test('without a runtime given, the one this test runs on (Bun) is judged', () => {
    expect(kafkaEngineUnavailableReason('librdkafka')).toBe(kafkaEngineUnavailableReason('librdkafka', 'bun'))
    expect(kafkaEngineUnavailableReason('librdkafka')).toBeDefined()
  })
})
