import { describe, expect, it } from 'vitest'
import { loadMigrations, renderMigrations } from '../src/store/index.js'

describe('cluster DDL', () => {
  it('single-server rendering has no cluster clauses', () => {
    const statements = renderMigrations(loadMigrations().map((m) => m.sql), { database: 'spanlens' }).flat()
    const all = statements.join('\n')
    expect(all).not.toMatch(/ON CLUSTER|Replicated|Distributed|_local/)
  })
})
