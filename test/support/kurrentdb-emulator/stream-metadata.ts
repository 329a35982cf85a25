/**
 * Stream metadata as it lives in KurrentDB: the last event of `$$<stream>`, whatever its type, when it is non-empty
 * JSON (`IndexReader.GetStreamMetadataUncached`); each write replaces the whole object. Interpreted: `$maxCount` (keep
 * the last N events), `$tb` (truncate before a revision; a soft delete sets it to Int64.MaxValue) and `$acl`.
 */

export const metadataEventType = '$metadata'
export const tombstoneEventType = '$streamDeleted'
/** Int64.MaxValue: the `$tb` of a soft-deleted stream and the revision of a tombstone. */
export const deletedStreamRevision = 2n ** 63n - 1n

/** `$acl`: roles per operation (`$r` read, `$w` write, `$d` delete, `$mr` / `$mw` metadata read / write). */
export type StreamAcl = Partial<Record<'$r' | '$w' | '$d' | '$mr' | '$mw', string | string[]>>

export type StreamMetadata = {
  maxCount: number | undefined
  truncateBefore: number | undefined
  acl: StreamAcl | undefined
  /** The whole JSON object, kept so a soft delete or an undelete can rewrite it with a new `$tb`. */
  json: Record<string, unknown>
}

export const noMetadata: StreamMetadata = { maxCount: undefined, truncateBefore: undefined, acl: undefined, json: {} }

export function metastreamOf(streamName: string): string {
  return '$$' + streamName
}

/** The stream a metastream describes, or undefined for an ordinary stream. */
export function streamOfMetastream(streamName: string): string | undefined {
  return streamName.startsWith('$$') ? streamName.slice(2) : undefined
}

/**
 * Parses metadata as KurrentDB's `StreamMetadata.FromJsonReader` does: a known key of the wrong JSON type makes the
 * whole metadata count as empty (`TryFromJsonBytes` answers Empty on any parse error), `$tb` included; a value that
 * is not positive (`$maxCount`, `$maxAge`, `$cacheControl`) or negative (`$tb`) drops only that key. Unknown keys
 * stay in the raw JSON. `$acl` roles are strings or arrays of strings.
 */
export function parseStreamMetadata(data: Uint8Array): StreamMetadata {
  const object = parseJsonObject(data)
  if (object === undefined) return noMetadata
  const integerKeys = ['$maxCount', '$maxAge', '$tb', '$cacheControl']
  for (const key of integerKeys) {
    const value = object[key]
    if (value !== undefined && !isInt64(value)) return noMetadata
  }
  if (object['$tmp'] !== undefined && typeof object['$tmp'] !== 'boolean') return noMetadata
  const acl = object['$acl']
  if (acl !== undefined && !isAcl(acl)) return noMetadata
  const maxCount = object['$maxCount'] as number | undefined
  const truncateBefore = object['$tb'] as number | undefined
  return {
    maxCount: maxCount !== undefined && maxCount > 0 ? maxCount : undefined,
    truncateBefore: truncateBefore !== undefined && truncateBefore >= 0 ? truncateBefore : undefined,
    acl: acl === undefined ? undefined : (acl as StreamAcl),
    json: object,
  }
}

/** The bytes as a JSON object; undefined when they are not one. */
export function parseJsonObject(data: Uint8Array): Record<string, unknown> | undefined {
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'))
  } catch {
    return undefined
  }
  return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined
}

/** A JSON integer that fits an Int64 (JSON numbers arrive as doubles: 2^63 is where Int64.MaxValue lands). */
function isInt64(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 2 ** 63
}

function isAcl(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  return Object.values(value).every((roles) => typeof roles === 'string' || (Array.isArray(roles) && roles.every((role) => typeof role === 'string')))
}

/** True once a soft delete has set `$tb` to Int64.MaxValue (JSON numbers lose precision, hence the bound). */
export function isSoftDeleted(metadata: StreamMetadata): boolean {
  return metadata.truncateBefore !== undefined && metadata.truncateBefore >= Number.MAX_SAFE_INTEGER
}

/** Only `$tb` = Int64.MaxValue: what a soft delete writes, whatever the metadata was (StorageWriterService, WriteDelete). */
export function softDeleteMetadata(): Uint8Array {
  return Buffer.from(`{"$tb":${deletedStreamRevision}}`, 'utf8')
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
