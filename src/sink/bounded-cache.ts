/**
 * A map that remembers what it computed, up to a number of entries: per-connector caches of encoded bytes keyed by
 * what events carry (event types, metadata keys), which a stream of ever-new keys must not grow without bound.
 * Past the bound a value is still computed, just not kept.
 */
export interface BoundedCache<K, V> {
  get(key: K): V
  readonly size: number
}

export function boundedCache<K, V>(maxEntries: number, compute: (key: K) => V): BoundedCache<K, V> {
  const entries = new Map<K, V>()
  return {
    get(key) {
      let value = entries.get(key)
      if (value === undefined) {
        value = compute(key)
        if (entries.size < maxEntries) entries.set(key, value)
      }
      return value
    },
    get size() {
      return entries.size
    },
  }
}
