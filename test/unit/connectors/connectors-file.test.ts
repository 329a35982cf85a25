import { describe, expect, test } from 'bun:test'
import { ConnectorsFileError, parseConnectorsFile } from '../../../src/connectors/connectors-file.ts'

describe('parseConnectorsFile', () => {
  test('reads YAML and JSON maps of id → { name?, settings, state? }', () => {
    const yaml = parseConnectorsFile('orders-sink:\n  name: Orders\n  settings:\n    topic: orders\n    waitForBrokerAck: true\n  state: Stopped\n', 'c.yaml')
    expect(yaml.get('orders-sink')).toEqual({ name: 'Orders', settings: { topic: 'orders', waitForBrokerAck: true }, state: 'stopped' })
    const json = parseConnectorsFile('{"orders-sink": {"settings": {"topic": "orders"}}}', 'c.json')
    expect(json.get('orders-sink')).toEqual({ name: undefined, settings: { topic: 'orders' }, state: 'running' })
    expect(parseConnectorsFile('', 'empty.yaml').size).toBe(0)
  })

  test('names every problem at once', () => {
    const text = JSON.stringify({ a: { settings: [] }, b: { settings: {}, state: 'paused', extra: 1 }, c: 'nope' })
    expect(() => parseConnectorsFile(text, 'c.json')).toThrow(ConnectorsFileError)
    try {
      parseConnectorsFile(text, 'c.json')
    } catch (error) {
      const message = (error as Error).message
      for (const part of ['a: settings must be a map', "b: unknown field 'extra'", 'b: state must be running or stopped', 'c: must be an object']) expect(message).toContain(part)
    }
    expect(() => parseConnectorsFile('a: [unclosed', 'c.yaml')).toThrow('not valid YAML or JSON')
  })
})
