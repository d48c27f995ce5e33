import type { QueryRoutesOptions } from '@spanlens/query'
import type { Store } from './create-store.js'

/**
 * What the query routes read of the store. The server mounts them with these, and the
 * query package's tests do too: an option the server derives from the store (the
 * retention, which POST /scores checks) then reaches both, not only the server.
 */
export function storeQueryOptions(store: Store): Pick<QueryRoutesOptions, 'client' | 'database' | 'mode' | 'cluster' | 'retentionDays' | 'streamQuery'> {
  return {
    client: store.client,
    database: store.database,
    mode: store.mode,
    cluster: store.cluster !== undefined,
    retentionDays: store.retentionDays,
    streamQuery: store.streamQuery,
  }
}
