// Run by global-store-template.ts in a process of its own (libchdb binds one data directory per
// process): applies every migration to a new embedded store under argv[2] and closes it.
import { loadConfig } from '../../src/config/load.js'
import { createStore, migrate } from '../../src/store/index.js'

const store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: process.argv[2] as string } }).store)
try {
  await migrate(store)
} finally {
  await store.close()
}
