// Start, stop, reset and delete through the API, and the transitions a running connector refuses, with KurrentDB's
// messages. A connector only reads RUNNING once Kafka answers, so these tests run the Kafka test broker (librdkafka's
// mock cluster) next to the KurrentDB emulator. The user documentation's tutorial curl commands are replayed as written.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startKafkaTestBroker, uniqueTopicName, type KafkaTestBroker } from '../../support/kafka-test-broker.ts'
import { apiPassword, apiUser, basicAuthorization, startApiRig, validSettings, waitForState, type ApiRig } from './api-rig.ts'
import { expectResourceInfo, expectStatus } from './status-assertions.ts'
import { quickstartSettings } from '../../support/documentation-examples.ts'

describe('connector lifecycle, with the connectors service, the KurrentDB emulator and the Kafka test broker', () => {
  let rig: ApiRig
  let broker: KafkaTestBroker
  let topic: string

  beforeAll(async () => {
    broker = await startKafkaTestBroker({ brokers: 1 })
    topic = uniqueTopicName('api-lifecycle')
    await broker.createTopic(topic, { partitions: 1, replicationFactor: 1 })
    rig = await startApiRig()
  })
  afterAll(async () => {
    await rig?.close()
    await broker?.stop()
  }, 30_000)

  const expectOk = async (method: string, path: string) => {
    const response = await rig.request(method, path)
    expect({ status: response.status, body: response.text }).toEqual({ status: 200, body: '{}' })
  }

  // Which events a start or reset at a position delivers: test/unit/in-process/start-positions.test.ts.
  test('start, refusals while running, stop, reset, start and reset at a position, and delete', async () => {
    const connectorId = 'lifecycle-connector'
    const created = await rig.request('POST', `/connectors/${connectorId}`, { body: { settings: validSettings({ topic, bootstrapServers: broker.bootstrapServers }) } })
    expect(created.status).toBe(200)

    await expectOk('POST', `/connectors/${connectorId}/start`)
    await waitForState(rig, connectorId, 'CONNECTOR_STATE_RUNNING')

    const startAgain = expectStatus(await rig.request('POST', `/connectors/${connectorId}/start`), 400, 9)
    expect(startAgain.message).toBe(`Connector ${connectorId} already running...`)
    expectResourceInfo(startAgain, connectorId)
    expect(expectStatus(await rig.request('POST', `/connectors/${connectorId}/start/0`), 400, 9).message).toBe(`Connector ${connectorId} already running...`)
    for (const path of [`/connectors/${connectorId}/reset`, `/connectors/${connectorId}/reset/4096`]) {
      expect(expectStatus(await rig.request('POST', path), 400, 9).message).toBe(`Connector ${connectorId} must be stopped. Current state: Running`)
    }
    const deleteWhileRunning = expectStatus(await rig.request('DELETE', `/connectors/${connectorId}`), 400, 9)
    expect(deleteWhileRunning.message).toBe(`Connector ${connectorId} must be stopped. Current state: Running`)

    await expectOk('POST', `/connectors/${connectorId}/stop`)
    await waitForState(rig, connectorId, 'CONNECTOR_STATE_STOPPED')
    await expectOk('POST', `/connectors/${connectorId}/stop`)

    await expectOk('POST', `/connectors/${connectorId}/reset`)
    await waitForState(rig, connectorId, 'CONNECTOR_STATE_RUNNING')
    await expectOk('POST', `/connectors/${connectorId}/stop`)
    await waitForState(rig, connectorId, 'CONNECTOR_STATE_STOPPED')

    // The largest uint64 is a valid position: it must reach the service as a bigint, not a rounded number.
    await expectOk('POST', `/connectors/${connectorId}/start/18446744073709551615`)
    await waitForState(rig, connectorId, 'CONNECTOR_STATE_RUNNING')
    await expectOk('POST', `/connectors/${connectorId}/stop`)
    await waitForState(rig, connectorId, 'CONNECTOR_STATE_STOPPED')

    await expectOk('POST', `/connectors/${connectorId}/reset/4096`)
    await waitForState(rig, connectorId, 'CONNECTOR_STATE_RUNNING')
    await expectOk('POST', `/connectors/${connectorId}/stop`)
    await waitForState(rig, connectorId, 'CONNECTOR_STATE_STOPPED')

    await expectOk('DELETE', `/connectors/${connectorId}`)
    expectStatus(await rig.request('GET', `/connectors/${connectorId}/settings`), 404, 5)
  })

  test('a HEAD request to the GET start route does not start the connector', async () => {
    const connectorId = 'head-start-connector'
    await rig.request('POST', `/connectors/${connectorId}`, { body: { settings: validSettings({ topic, bootstrapServers: broker.bootstrapServers }) } })
    const response = await rig.request('HEAD', `/connectors/${connectorId}/start`)
    expect(response.status).toBe(405)
    const listed = (await rig.request('GET', `/connectors?connectorId=${connectorId}`)).json as { items: { state: string }[] }
    expect(listed.items[0]!.state).toBe('CONNECTOR_STATE_STOPPED')
  })

  describe("the documentation's Confluent Cloud tutorial, replayed as curl sends it", () => {
    test('create with -d @file, view the settings, then start with a plain GET', async () => {
      const authorization = basicAuthorization(apiUser, apiPassword)
      // Step 1: `curl -i -L -u admin:password -H "content-type: application/json" -d '@kafka-sink-config.json' -X POST …/connectors/kafka-sink-quickstart`
      // The tutorial's file, pointed at the test broker. Its SASL keys are left out because the test broker speaks
      // plaintext (secrets are covered in connector-routes.test.ts).
      const configuration = {
        settings: {
          instanceTypeName: 'kafka-sink',
          'subscription:filter:scope': 'stream',
          'subscription:filter:filterType': 'prefix',
          'subscription:filter:expression': 'LoanRequest',
          topic,
          bootstrapServers: broker.bootstrapServers,
          waitForBrokerAck: 'true',
        },
      }
      const created = await rig.send(
        new Request('http://localhost/connectors/kafka-sink-quickstart', {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify(configuration, null, 2),
        }),
      )
      expect({ status: created.status, body: created.text }).toEqual({ status: 200, body: '{}' })

      // Step 1.3: `curl -u admin:password …/connectors/kafka-sink-quickstart/settings`
      const viewed = await rig.send(new Request('http://localhost/connectors/kafka-sink-quickstart/settings', { headers: { authorization } }))
      expect(viewed.status).toBe(200)
      expect((viewed.json as { settings: Record<string, string> }).settings).toEqual(configuration.settings)

      // Step 2: `curl -i -L -u admin:password …/connectors/kafka-sink-quickstart/start` (no -X, no data: a GET)
      const started = await rig.send(new Request('http://localhost/connectors/kafka-sink-quickstart/start', { headers: { authorization } }))
      expect({ status: started.status, body: started.text }).toEqual({ status: 200, body: '{}' })
      expect(started.headers.get('content-type')).toStartWith('application/json')
      await waitForState(rig, 'kafka-sink-quickstart', 'CONNECTOR_STATE_RUNNING')
      await expectOk('POST', '/connectors/kafka-sink-quickstart/stop')
      await waitForState(rig, 'kafka-sink-quickstart', 'CONNECTOR_STATE_STOPPED')
    })

    test("the quickstart's create (no credentials needed only with --insecure) works as written", async () => {
      const insecure = await startApiRig({ credentials: null })
      try {
        const response = await insecure.send(
          new Request('http://localhost:2113/connectors/mongo-sink-connector', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ settings: quickstartSettings('your-topic', 'your-kafka-cluster-address:9092') }),
          }),
        )
        expect({ status: response.status, body: response.text }).toEqual({ status: 200, body: '{}' })
      } finally {
        await insecure.close()
      }
    })
  })
})
