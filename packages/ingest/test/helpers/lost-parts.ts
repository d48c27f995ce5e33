import type { Store } from '../../src/store/index.js'

/**
 * Where the active parts of `tables` sit on disk. Removing them while the engine is down, its
 * deduplication logs kept, leaves what an engine killed between recording an insert's
 * deduplication id and renaming its part into place starts with (restore-missing tests).
 */
export async function activePartPaths(store: Store, tables: readonly string[]): Promise<string[]> {
  const rs = await store.client.query({
    query: 'SELECT path FROM system.parts WHERE database = currentDatabase() AND active AND table IN {tables:Array(String)}',
    query_params: { tables },
    format: 'JSONEachRow',
  })
  return (await rs.json<{ path: string }>()).map((p) => p.path)
}
