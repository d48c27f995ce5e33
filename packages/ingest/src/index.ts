export { loadConfig, type SpanlensConfig, type StoreConfig, type IngestConfig, type QueryConfig, type ApiKey } from './config/load.js'
export { SpanlensError, errors, isSpanlensError } from './errors.js'
export { createStore, migrate, type Store, type MigrateResult } from './store/index.js'
