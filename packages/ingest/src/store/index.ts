export { createStore, type Store, type RawInsert, type FileInsert } from './create-store.js'
export { migrate, loadMigrations, defaultMigrationsDir, syncRetention, type MigrateResult, type MigrationFile } from './migrate.js'
export { renderMigration, type TemplateContext } from './migration-template.js'
