import { errors, UNREACHABLE_RETRY_AFTER_SECONDS } from '../errors.js'

/** Where opening the store is (server.ts): `open` once migrated, `migrating` while its migrations run. */
export type StoreOpenState = 'open' | 'migrating' | 'unreached'

/**
 * An onRequest hook for routes that read the store: 503 with Retry-After until the store is open
 * and migrated (store-opener.ts). SPANLENS_STORE_UNREACHABLE for a server started while ClickHouse
 * was unreachable: it has no database or tables there yet to read, and ClickHouse would answer
 * UNKNOWN_DATABASE, a 502 that says nothing of waiting. SPANLENS_STORE_MIGRATING while this
 * server applies its migrations (a backfill over a large store takes minutes): a query would
 * miss a table or column they add.
 */
export function refuseUntilStoreOpen(state: () => StoreOpenState): () => Promise<void> {
  return async () => {
    const now = state()
    if (now === 'open') return
    if (now === 'migrating') throw errors.STORE_MIGRATING({ retryAfterSeconds: UNREACHABLE_RETRY_AFTER_SECONDS })
    throw errors.STORE_UNREACHABLE(undefined, 'not reached since this server started, so its tables may not exist yet; retry after the Retry-After delay', {
      retryAfterSeconds: UNREACHABLE_RETRY_AFTER_SECONDS,
    })
  }
}
