import type { SpanlensConfig } from '../../src/config/load.js'
import { createStore } from '../../src/store/index.js'

/** How many rows each span name starting with `prefix` has in the store, through a store of its own: a span stored twice counts 2. */
export async function spanCountsByName(config: SpanlensConfig, prefix: string): Promise<Array<{ name: string; n: number }>> {
  const store = await createStore(config.store)
  try {
    const rs = await store.client.query({
      query: 'SELECT name, toUInt32(count()) AS n FROM spans WHERE startsWith(name, {p:String}) GROUP BY name ORDER BY name',
      query_params: { p: prefix },
      format: 'JSONEachRow',
    })
    return await rs.json()
  } finally {
    await store.close()
  }
}
