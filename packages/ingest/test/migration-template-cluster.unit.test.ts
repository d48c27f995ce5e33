import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { loadMigrations, renderMigration, renderMigrations } from '../src/store/index.js'

const sqls = () => loadMigrations().map((m) => m.sql)

describe('per-node cluster DDL rendering', () => {
  it('renders without ON CLUSTER and with non-replicated engines, local tables behind Distributed ones', () => {
    const all = renderMigrations(sqls(), { database: 'spanlens', cluster: 'prod', ddl: 'per_node' }).flat().join('\n')
    expect(all).not.toMatch(/ON CLUSTER|Replicated|(?<!non_)replicated_deduplication_window/)
    expect(all).toContain('CREATE TABLE IF NOT EXISTS spans_local')
    expect(all).toContain('ENGINE = ReplacingMergeTree(ingested_at)')
    expect(all).toContain('non_replicated_deduplication_window = 10000')
    expect(all).toContain('CREATE TABLE IF NOT EXISTS spans AS spans_local ENGINE = Distributed(`prod`, `spanlens`, spans_local, cityHash64(trace_id))')
    expect(all).toContain('CREATE OR REPLACE TABLE spans AS spans_local ENGINE = Distributed(`prod`, `spanlens`, spans_local, cityHash64(trace_id))')
    expect(all).not.toContain('{{')
  })

  it('never alters a Distributed table by hand: distributed_alter re-derives it from the local table, with the key declared once', () => {
    const ctx = { database: 'db', cluster: 'c' }
    const files = ['{{distributed t cityHash64(id)}};', '{{distributed_alter t ADD COLUMN x UInt8}};']
    expect(renderMigrations(files, ctx)[1]).toEqual(['CREATE OR REPLACE TABLE t ON CLUSTER `c` AS t_local ENGINE = Distributed(`c`, `db`, t_local, cityHash64(id))'])
    expect(() => renderMigration('{{distributed_sync nope}};', ctx)).toThrow(/no \{\{distributed nope KEY\}\}/)
    expect(renderMigration('{{distributed_sync t}};', { database: 'db' })).toEqual([])
  })

  it('moves data through what one run reaches: the Distributed table under distributed DDL, each node its own rows per node', () => {
    const sql = 'INSERT INTO {{data t}} SELECT * FROM {{data u}};'
    expect(renderMigration(sql, { database: 'db' })).toEqual(['INSERT INTO t SELECT * FROM u'])
    expect(renderMigration(sql, { database: 'db', cluster: 'c' })).toEqual(['INSERT INTO t SELECT * FROM u'])
    expect(renderMigration(sql, { database: 'db', cluster: 'c', ddl: 'per_node' })).toEqual(['INSERT INTO t_local SELECT * FROM u_local'])
    expect(() => renderMigration('INSERT INTO {{data}} SELECT 1;', { database: 'db' })).toThrow(/needs an argument/)
  })
})

describe('SPANLENS_CLICKHOUSE_NODES', () => {
  it('lists the nodes for per-node DDL, and needs a cluster and a URL', () => {
    const env = { SPANLENS_CLICKHOUSE_URL: 'http://n1:8123', SPANLENS_CLICKHOUSE_CLUSTER: 'c', SPANLENS_CLICKHOUSE_NODES: 'http://n1:8123, http://n2:8123' }
    expect(loadConfig({ env }).store.nodes).toEqual([{ url: 'http://n1:8123' }, { url: 'http://n2:8123' }])
    // Behind a reverse proxy, each node under its own prefix.
    const proxied = loadConfig({ env: { ...env, SPANLENS_CLICKHOUSE_NODES: 'http://proxy/ch1/,http://proxy/ch2/' } }).store.nodes
    expect(proxied).toEqual([{ url: 'http://proxy', pathname: '/ch1/' }, { url: 'http://proxy', pathname: '/ch2/' }])
    expect(() => loadConfig({ env: { ...env, SPANLENS_CLICKHOUSE_CLUSTER: '' } })).toThrow(/SPANLENS_CLICKHOUSE_NODES: needs SPANLENS_CLICKHOUSE_CLUSTER/)
    expect(() => loadConfig({ env: { ...env, SPANLENS_CLICKHOUSE_NODES: 'n2:8123' } })).toThrow(/SPANLENS_CLICKHOUSE_NODES/)
  })
})
