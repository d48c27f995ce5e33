import type { Store } from '@spanlens/ingest'

/**
 * The spans table as the migrations make it, with one of its costs taken away,
 * for the raw ceiling (raw-ceiling.ts) and the schema-cost bench. Every name is
 * read from the migrated schema (system tables), so a variant follows the
 * migrations instead of a second copy of them.
 *
 * - `schema`: as migrated.
 * - `floor`: the engine's own floor: a plain MergeTree with the same columns as
 *   inserted (no MATERIALIZED ones) and the same ORDER BY; no partition key, skip
 *   index, materialized view, deduplication window or codec (ClickHouse's default, LZ4).
 * - `drop-index:<name>`, `drop-view:<name>` (a materialized view over spans),
 *   `drop-column:<name>` (a MATERIALIZED column), `default-codecs` (every column's
 *   CODEC removed): the migrated table less that one thing.
 */
export type Variant = 'schema' | 'floor' | 'default-codecs' | `drop-${'index' | 'view' | 'column'}:${string}`

export interface SchemaParts {
  indexes: string[]
  /** Materialized views that read spans as they are inserted. */
  views: string[]
  /** Columns computed at insert (MATERIALIZED). */
  materialized: string[]
  /** Columns with a CODEC of their own. */
  codecColumns: string[]
}

const FLOOR_TABLE = 'spans_floor'

async function rows<T>(store: Store, query: string): Promise<T[]> {
  return (await store.client.query({ query, format: 'JSONEachRow' })).json<T>()
}

const quote = (name: string) => `\`${name.replace(/`/g, '``')}\``
const here = (store: Store) => `database = '${store.database.replace(/'/g, "\\'")}'`

export async function schemaParts(store: Store): Promise<SchemaParts> {
  const indexes = await rows<{ name: string }>(store, `SELECT name FROM system.data_skipping_indices WHERE ${here(store)} AND table = 'spans' ORDER BY name`)
  const [table] = await rows<{ views: string[] }>(store, `SELECT dependencies_table AS views FROM system.tables WHERE ${here(store)} AND name = 'spans'`)
  const columns = await rows<{ name: string; default_kind: string; compression_codec: string }>(
    store,
    `SELECT name, default_kind, compression_codec FROM system.columns WHERE ${here(store)} AND table = 'spans' ORDER BY position`,
  )
  return {
    indexes: indexes.map((i) => i.name),
    views: table?.views ?? [],
    materialized: columns.filter((c) => c.default_kind === 'MATERIALIZED').map((c) => c.name),
    codecColumns: columns.filter((c) => c.compression_codec !== '').map((c) => c.name),
  }
}

/** Applies a variant to a freshly migrated, empty store; returns the table to insert into. */
export async function applyVariant(store: Store, variant: Variant): Promise<string> {
  const command = (query: string) => store.client.command({ query })
  const [kind, name = ''] = variant.split(':') as [string, string?]
  switch (kind) {
    case 'schema':
      return 'spans'
    case 'floor': {
      const columns = await rows<{ name: string; type: string; default_kind: string; default_expression: string }>(
        store,
        `SELECT name, type, default_kind, default_expression FROM system.columns WHERE ${here(store)} AND table = 'spans' AND default_kind != 'MATERIALIZED' ORDER BY position`,
      )
      const [table] = await rows<{ sorting_key: string }>(store, `SELECT sorting_key FROM system.tables WHERE ${here(store)} AND name = 'spans'`)
      const defs = columns.map((c) => `${quote(c.name)} ${c.type}${c.default_kind === 'DEFAULT' ? ` DEFAULT ${c.default_expression}` : ''}`)
      await command(`CREATE TABLE ${FLOOR_TABLE} (${defs.join(', ')}) ENGINE = MergeTree ORDER BY (${table?.sorting_key})`)
      return FLOOR_TABLE
    }
    case 'drop-index':
      await command(`ALTER TABLE spans DROP INDEX ${quote(name)}`)
      return 'spans'
    case 'drop-view':
      await command(`DROP VIEW ${quote(name)}`)
      return 'spans'
    case 'drop-column':
      await command(`ALTER TABLE spans DROP COLUMN ${quote(name)}`)
      return 'spans'
    case 'default-codecs':
      for (const column of (await schemaParts(store)).codecColumns) await command(`ALTER TABLE spans MODIFY COLUMN ${quote(column)} REMOVE CODEC`)
      return 'spans'
    default:
      throw new Error(`unknown schema variant ${variant}`)
  }
}

/** Every variant of the migrated schema: each index, view and MATERIALIZED column away one at a time, the codecs, the floor. */
export function variantsOf(parts: SchemaParts): Variant[] {
  return [
    'schema',
    ...parts.indexes.map((n): Variant => `drop-index:${n}`),
    ...parts.views.map((n): Variant => `drop-view:${n}`),
    ...parts.materialized.map((n): Variant => `drop-column:${n}`),
    'default-codecs',
    'floor',
  ]
}
