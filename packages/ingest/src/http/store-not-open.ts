import { errors, UNREACHABLE_RETRY_AFTER_SECONDS } from '../errors.js'

/**
 * An onRequest hook for routes that read the store: 503 SPANLENS_STORE_UNREACHABLE, with
 * Retry-After, until the store is open and migrated (store-opener.ts). A server started while
 * ClickHouse was unreachable has no database or tables there yet to read: ClickHouse would
 * answer UNKNOWN_DATABASE, a 502 that says nothing of waiting.
 */
export function refuseUntilStoreOpen(isOpen: () => boolean): () => Promise<void> {
  return async () => {
    if (isOpen()) return
    throw errors.STORE_UNREACHABLE(undefined, 'not reached since this server started, so its tables may not exist yet; retry after the Retry-After delay', {
      retryAfterSeconds: UNREACHABLE_RETRY_AFTER_SECONDS,
    })
  }
}
