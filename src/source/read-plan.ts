/**
 * Turns the subscription filter settings into what to read from KurrentDB: which stream (one stream or `$all`),
 * which filter the server applies, and which checks stay on our side (JSONPath, our own bookkeeping events).
 * Pure, so every combination of scope/filterType/expression is a unit test.
 */
import { createJsonPathEnvironment } from '../settings/user-patterns.ts'
import type { SourceEvent } from './read-response-decoder.ts'

export interface SubscriptionFilterSettings {
  readonly scope: 'unspecified' | 'stream' | 'record'
  readonly filterType: 'unspecified' | 'streamId' | 'prefix' | 'regex' | 'jsonPath'
  readonly expression?: string | undefined
}

export type ServerFilter =
  | { readonly on: 'streamName' | 'eventType'; readonly regex: string }
  | { readonly on: 'streamName' | 'eventType'; readonly prefixes: readonly string[] }

export type ReadTarget =
  | { readonly kind: 'all'; readonly filter: ServerFilter | undefined }
  | { readonly kind: 'stream'; readonly streamName: string }

export interface ReadPlan {
  readonly target: ReadTarget
  /** RFC 9535 JSONPath evaluated on JSON events; see `createEventPredicate` for when an event matches. */
  readonly jsonPath: string | undefined
}

/** The event-type regex KurrentDB clients send for "exclude system events": types starting with `$` are system events. */
export const excludeSystemEventsRegex = '^[^$].*'

/** Streams and event types the sink writes for itself (connector history, checkpoints); never forwarded. */
export const ownStreamPrefix = '$kafka-sink/'
export const ownEventTypePrefix = '$kafka-sink-'

export function planRead(filter: SubscriptionFilterSettings): ReadPlan {
  const expression = filter.expression?.trim() ?? ''
  if (expression === '') {
    // KurrentDB's connectors: no filter at all reads `$all` without system events; an explicit scope with an empty
    // expression reads everything, system events included.
    return filter.scope === 'unspecified' && filter.filterType === 'unspecified'
      ? { target: { kind: 'all', filter: { on: 'eventType', regex: excludeSystemEventsRegex } }, jsonPath: undefined }
      : { target: { kind: 'all', filter: undefined }, jsonPath: undefined }
  }
  const scope = filter.scope !== 'unspecified' ? filter.scope : filter.filterType === 'jsonPath' ? 'record' : 'stream'
  const on = scope === 'stream' ? 'streamName' : 'eventType'
  switch (filter.filterType) {
    case 'streamId':
      return { target: { kind: 'stream', streamName: expression }, jsonPath: undefined }
    case 'prefix':
      return { target: { kind: 'all', filter: { on, prefixes: splitPrefixes(expression) } }, jsonPath: undefined }
    case 'jsonPath':
      // JSONPath needs the record itself, so the server cannot filter; system events are still excluded server-side,
      // because their bodies are KurrentDB's own bookkeeping, never the user's records.
      return { target: { kind: 'all', filter: { on: 'eventType', regex: excludeSystemEventsRegex } }, jsonPath: expression }
    case 'regex':
    case 'unspecified':
      return { target: { kind: 'all', filter: { on, regex: expression } }, jsonPath: undefined }
  }
}

function splitPrefixes(expression: string): string[] {
  return expression
    .split(',')
    .map((prefix) => prefix.trim())
    .filter((prefix) => prefix !== '')
}

export function isOwnBookkeeping(event: Pick<SourceEvent, 'streamId' | 'type'>): boolean {
  return event.streamId.startsWith(ownStreamPrefix) || event.type.startsWith(ownEventTypePrefix)
}

export type EventPredicate = (event: SourceEvent) => boolean

// match() and search() run on RE2: a JSONPath filter is evaluated on every event, on the event loop.
const jsonPathEnvironment = createJsonPathEnvironment()
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * The client-side part of the filter: drops our own bookkeeping always, and applies the JSONPath if there is one.
 *
 * An event matches when the query selects at least one node from the event, or from a one-element list holding
 * the event. The second reading exists because under RFC 9535 a filter on the root (`$[?@.amount > 100]`) tests
 * the root's member values, not the root itself, so the form most users write would never match an event; with
 * the list, `@` is the event. Path queries (`$.customer.tier`, `$.lines[?@.sku == 'A1']`) work as the RFC says.
 * JSONPath applies to JSON events only: other events and bodies that do not parse are not forwarded.
 */
export function createEventPredicate(plan: ReadPlan): EventPredicate {
  if (plan.jsonPath === undefined) return (event) => !isOwnBookkeeping(event)
  const query = jsonPathEnvironment.compile(plan.jsonPath)
  return (event) => {
    if (isOwnBookkeeping(event) || event.contentType !== 'application/json') return false
    let document: unknown
    try {
      document = JSON.parse(utf8.decode(event.data))
    } catch {
      return false
    }
    const value = document as Parameters<typeof query.query>[0]
    return query.query(value).length > 0 || query.query([value]).length > 0
  }
}
