/**
 * Partition key extraction: which bytes become the Kafka key, so that related events share a partition and keep
 * their order. Pure; every example of the user documentation is a unit test.
 */
export interface PartitionKeySettings {
  readonly enabled: boolean
  readonly source: 'partitionKey' | 'stream' | 'streamSuffix' | 'headers'
  readonly expression?: string | undefined
}

export interface KeySourceFields {
  readonly streamId: string
  /** Top-level values of the event's JSON metadata, already stringified. */
  readonly metadataHeaders: ReadonlyMap<string, string>
}

export type PartitionKeyExtractor = (fields: KeySourceFields) => string

import { compileLinearPattern } from '../settings/user-patterns.ts'

/**
 * Builds the extractor once per connector (the regex compiles once, on RE2: linear time, whatever the stream id). Every fallback is the stream id: one stream's
 * events then always land on one partition, which is what keeps them in order.
 */
export function createPartitionKeyExtractor(settings: PartitionKeySettings): PartitionKeyExtractor {
  if (!settings.enabled || settings.source === 'partitionKey') return ({ streamId }) => streamId
  const expression = settings.expression?.trim() ?? ''
  switch (settings.source) {
    case 'stream': {
      if (expression === '') return ({ streamId }) => streamId
      const pattern = compileLinearPattern(expression)
      return ({ streamId }) => {
        const found = pattern.find(streamId)
        if (found === undefined) return streamId
        // The first capture group when the expression has one ("^(.*)_data$" → the name before _data), else the match.
        return found.hasGroups ? (found.firstGroup ?? streamId) : found.match
      }
    }
    case 'streamSuffix':
      // After the FIRST hyphen: ids are often GUIDs ("order-3f2a-77c1" → "3f2a-77c1") or dates ("order-2021-05-15").
      return ({ streamId }) => {
        const hyphen = streamId.indexOf('-')
        return hyphen === -1 || hyphen === streamId.length - 1 ? streamId : streamId.slice(hyphen + 1)
      }
    case 'headers': {
      const names = expression
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== '')
      return ({ streamId, metadataHeaders }) => {
        const values: string[] = []
        for (const name of names) {
          const value = metadataHeaders.get(name)
          if (value !== undefined && value !== '') values.push(value)
        }
        return values.length === 0 ? streamId : values.join('-')
      }
    }
  }
}
