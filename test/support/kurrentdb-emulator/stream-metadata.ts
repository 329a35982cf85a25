/**
 * Stream metadata as it lives in KurrentDB: the latest `$metadata` event of `$$<stream>`. Only what reads
 * honour is interpreted: `$maxCount` (keep the last N events) and `$tb` (truncate before a revision; a
 * soft delete sets it to Int64.MaxValue).
 */

export const metadataEventType = '$metadata'
export const tombstoneEventType = '$streamDeleted'
/** Int64.MaxValue: the `$tb` of a soft-deleted stream and the revision of a tombstone. */
export const deletedStreamRevision = 2n ** 63n - 1n

export type StreamMetadata = {
  maxCount: number | undefined
  truncateBefore: number | undefined
  /** The whole JSON object, kept so a soft delete or an undelete can rewrite it with a new `$tb`. */
  json: Record<string, unknown>
}

export const noMetadata: StreamMetadata = { maxCount: undefined, truncateBefore: undefined, json: {} }

export function metastreamOf(streamName: string): string {
  return '$$' + streamName
}

/** The stream a metastream describes, or undefined for an ordinary stream. */
export function streamOfMetastream(streamName: string): string | undefined {
  return streamName.startsWith('$$') ? streamName.slice(2) : undefined
}

export function parseStreamMetadata(data: Uint8Array): StreamMetadata {
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'))
  } catch {
    return noMetadata
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return noMetadata
  const object = json as Record<string, unknown>
  const maxCount = object['$maxCount']
  const truncateBefore = object['$tb']
  return {
    maxCount: typeof maxCount === 'number' && maxCount > 0 ? maxCount : undefined,
    truncateBefore: typeof truncateBefore === 'number' && truncateBefore >= 0 ? truncateBefore : undefined,
    json: object,
  }
}

/** True once a soft delete has set `$tb` to Int64.MaxValue (JSON numbers lose precision, hence the bound). */
export function isSoftDeleted(metadata: StreamMetadata): boolean {
  return metadata.truncateBefore !== undefined && metadata.truncateBefore >= Number.MAX_SAFE_INTEGER
}

/**
 * The metadata JSON with `$tb` replaced. Written by hand because `JSON.stringify` cannot print
 * 9223372036854775807 exactly, and the server writes it as that integer.
 */
export function metadataWithTruncateBefore(metadata: StreamMetadata, truncateBefore: bigint): Uint8Array {
  const rest = { ...metadata.json }
  delete rest['$tb']
  const restJson = JSON.stringify(rest)
  const text = restJson === '{}' ? `{"$tb":${truncateBefore}}` : `{"$tb":${truncateBefore},${restJson.slice(1)}`
  return Buffer.from(text, 'utf8')
}

/** The first revision a read may return, given the metadata and the number of revisions written. */
export function firstVisibleRevision(metadata: StreamMetadata, revisionCount: number): number {
  let first = 0
  if (metadata.truncateBefore !== undefined) first = Math.max(first, metadata.truncateBefore)
  if (metadata.maxCount !== undefined) first = Math.max(first, revisionCount - metadata.maxCount)
  return first
}
