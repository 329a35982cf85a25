/**
 * `bootstrapServers` entries: `host:port`, `host` (port 9092, as librdkafka assumes) or `[ipv6]:port`. Checked here so
 * that a typo fails when the connector is configured, not as an endless reconnect loop once it runs.
 */
import { readFailed, readOk, showRawValue, type ReadResult } from './setting-definition.ts'

export const defaultKafkaPort = 9092

const hostnameLabel = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/
const ipv4Address = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/
const ipv6Address = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/
const portPattern = /^\d{1,5}$/

function isHostname(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false
  const ipv4 = ipv4Address.exec(host)
  if (ipv4) return ipv4.slice(1).every((octet) => Number(octet) <= 255)
  return host.replace(/\.$/, '').split('.').every((label) => hostnameLabel.test(label))
}

/**
 * Reads one entry and returns it as `host:port`. `schemeHint` names the setting that picks the protocol, for the
 * message shown when an entry is written as a URL.
 */
export function readBrokerAddress(entry: string, schemeHint: string): ReadResult<string> {
  const shown = showRawValue(entry)
  if (entry === '') return readFailed('has an empty entry: remove the doubled or trailing comma')
  if (entry.includes('://')) {
    return readFailed(`entry ${shown} must be host:port without a scheme: remove it and choose the protocol with ${schemeHint}`)
  }
  let host: string
  let port: string | undefined
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']')
    if (close < 0) return readFailed(`entry ${shown} opens a bracket for an IPv6 address but does not close it: write [address]:port`)
    host = entry.slice(1, close)
    const rest = entry.slice(close + 1)
    if (rest !== '' && !rest.startsWith(':')) return readFailed(`entry ${shown} must be [address]:port`)
    port = rest === '' ? undefined : rest.slice(1)
    if (!ipv6Address.test(host) || !host.includes(':')) return readFailed(`entry ${shown} does not hold an IPv6 address between the brackets`)
    host = `[${host}]`
  } else {
    const colons = entry.split(':').length - 1
    if (colons > 1) return readFailed(`entry ${shown} looks like an IPv6 address: write it in brackets, e.g. [::1]:9092`)
    const colon = entry.indexOf(':')
    host = colon < 0 ? entry : entry.slice(0, colon)
    port = colon < 0 ? undefined : entry.slice(colon + 1)
    if (!isHostname(host)) return readFailed(`entry ${shown} does not start with a valid host name or IPv4 address`)
  }
  if (port === undefined) return readOk(`${host}:${defaultKafkaPort}`)
  if (!portPattern.test(port) || Number(port) < 1 || Number(port) > 65535) {
    return readFailed(`entry ${shown} has port ${showRawValue(port)}; a port is a number from 1 to 65535`)
  }
  return readOk(`${host}:${Number(port)}`)
}

/** A comma-separated list (or a JSON array of entries) of broker addresses, each normalized to `host:port`. */
export function readBrokerAddresses(raw: unknown, schemeHint: string): ReadResult<string[]> {
  let entries: string[]
  if (typeof raw === 'string') entries = raw.split(',')
  else if (Array.isArray(raw) && raw.every((item): item is string => typeof item === 'string')) entries = raw.flatMap((item) => item.split(','))
  else return readFailed(`must be a comma-separated list of host:port addresses, got ${showRawValue(raw)}`)
  const addresses: string[] = []
  for (const entry of entries) {
    const address = readBrokerAddress(entry.trim(), schemeHint)
    if (!address.ok) return address
    addresses.push(address.value)
  }
  if (addresses.length === 0) return readFailed('must list at least one host:port address')
  return readOk(addresses)
}
