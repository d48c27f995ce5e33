export { connectStore, createStore, type ConnectedStore, type Store, type StoreNode, type RawInsert, type FileInsert } from './create-store.js'
export { migrate, loadMigrations, defaultMigrationsDir, syncRetention, type MigrateResult, type MigrationFile } from './migrate.js'
export { storeQueryOptions } from './query-options.js'
export { renderMigration, renderMigrations, shardingKeys, type TemplateContext } from './migration-template.js'
