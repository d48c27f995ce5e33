import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { runDeadLetter } from '../src/cli/dead-letter.js'
import { loadConfig } from '../src/config/load.js'
import { INDEX_ENTRY_BYTES } from '../src/pipeline/segment-index.js'
import { buildServer } from '../src/server.js'
import { createStore, type Store } from '../src/store/index.js'
import { jsonRequest } from './helpers/otlp.js'
import { API_KEYS, bearer, KEYS } from './helpers/server.js'
import { tempDir } from './helpers/tmp.js'

// A spool segment damaged on disk while the server was stopped (a bad sector, a
// stray write) costs only the rows it hit: the server replays the rest at start,
// says at error level how many acknowledged rows it lost, and counts them where
// an operator looks (/readyz, `spanlens dead-letter list`).

const config = (dir: string) => loadConfig({ env: { SPANLENS_DATA_DIR: dir, SPANLENS_API_KEYS: API_KEYS, SPANLENS_LOG_LEVEL: 'silent', SPANLENS_BATCH_MAX_AGE_MS: '1000' } })

async function names(store: Store): Promise<string[]> {
  const rs = await store.client.query({ query: "SELECT name FROM spans WHERE service_name = 'damaged-spool' ORDER BY name", format: 'JSONEachRow' })
  return (await rs.json<{ name: string }>()).map((r) => r.name)
}

describe('a spool segment damaged while the server was stopped', () => {
  it('replays the records around the damaged one, logs the acknowledged rows lost, and counts them in /readyz and the CLI', async () => {
    const dir = tempDir()
    try {
      // Five acknowledged requests of ten spans that ClickHouse never got (it was down), left in
      // the spool by a server that stopped: one sealed segment.
      const real = await createStore(config(dir.path).store)
      const down: Store = {
        ...real,
        insertFile: async () => {
          throw Object.assign(new Error('injected: connection refused'), { code: 'ECONNREFUSED' })
        },
        close: async () => undefined,
      }
      const first = await buildServer(config(dir.path), { store: down, shutdownTimeoutMs: 100 })
      try {
        const url = await first.listen({ host: '127.0.0.1', port: 0 })
        for (let r = 0; r < 5; r++) {
          const res = await fetch(`${url}/v1/traces`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) },
            body: JSON.stringify(jsonRequest(Array.from({ length: 10 }, (_, i) => ({ name: `r${r}-${i}` })), 'damaged-spool')),
          })
          expect(res.status).toBe(200)
          await res.arrayBuffer()
        }
      } finally {
        await first.close()
        await real.close()
      }
      const spoolDir = join(dir.path, 'spool')
      const segments = readdirSync(spoolDir).filter((f) => f.endsWith('.spans.t3.seg'))
      expect(segments).toHaveLength(1)
      const seg = join(spoolDir, segments[0] as string)

      // 16 bytes flipped in the middle of the third request's rows.
      const data = readFileSync(seg)
      const index = readFileSync(seg.replace(/seg$/, 'idx'))
      const length = (i: number) => index.readUInt32LE(i * INDEX_ENTRY_BYTES)
      const at = data.indexOf(0x0a) + 1 + length(0) + length(1) + Math.floor(length(2) / 2)
      for (let i = at; i < at + 16; i++) data[i] = data[i]! ^ 0xff
      writeFileSync(seg, data)

      const lines: string[] = []
      const second = await buildServer(config(dir.path), { logger: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }) })
      try {
        await second.spanlens.flush()
        const expected = [0, 1, 3, 4].flatMap((r) => Array.from({ length: 10 }, (_, i) => `r${r}-${i}`)).sort()
        expect(await names(second.spanlens.store)).toEqual(expected)
        const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 50)
        expect(logged).toEqual([expect.objectContaining({ segment: segments[0], rowsLost: 10, recordsLost: 1, rowsKept: 40 })])
        const ready = await second.inject({ method: 'GET', url: '/readyz' })
        expect(ready.json()).toMatchObject({ status: 'ready', deadLetters: { damagedSegments: 1, rowsLost: 10 } })
      } finally {
        await second.close()
      }
      const out: string[] = []
      expect(await runDeadLetter(['list'], config(dir.path), { out: (l) => out.push(l) })).toBe(0)
      expect(out.join('\n')).toContain('1 segment(s) found damaged at start, 10 acknowledged row(s) lost')
    } finally {
      dir.cleanup()
    }
  }, 60_000)
})
