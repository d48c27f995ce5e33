import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runDeadLetter } from '../src/cli/dead-letter.js'
import { loadConfig } from '../src/config/load.js'
import { createStore, type FileInsert, type Store } from '../src/store/index.js'
import { anyValue, logsJson, type LogSpec } from './helpers/otlp-logs.js'
import { jsonRequest, llmAttrs } from './helpers/otlp.js'
import { API_KEYS, bearer, KEYS, startServer, type TestServer } from './helpers/server.js'
import { seedMigratedStore } from './helpers/store-template.js'
import { tempDir } from './helpers/tmp.js'
import { activePartPaths } from './helpers/lost-parts.js'

// ClickHouse's non-replicated MergeTree records an insert's deduplication id in its log before
// it renames the insert's part into place. An engine that dies between the two (SIGKILL, the
// OOM killer, the crash of the process that holds embedded chDB) starts again remembering the
// id without the part, and answers the retry under the same token as a duplicate: nothing is
// written, and the spool would delete the acknowledged rows. These tests make that state
// exactly (the parts removed while the engine is closed, its deduplication logs kept) and
// replay the segments as a crashed server's next start does.

const TABLES = ['spans', 'spans_minute', 'trace_hours', 'logs', 'span_content', 'metrics'] as const
type Counts = Record<(typeof TABLES)[number], number> & { distinctSpans: number; calls: number }

const dir = tempDir()
const saved = join(dir.path, 'saved-segments')
const spoolDir = join(dir.path, 'spool')
const env = { SPANLENS_DATA_DIR: dir.path, SPANLENS_LOG_LEVEL: 'silent' }
const config = () => loadConfig({ env: { ...env, SPANLENS_API_KEYS: API_KEYS } })

/** Each table's rows, and the rollup's count of calls (each span once). */
async function counts(store: Store): Promise<Counts> {
  const one = async (query: string) => Number((await (await store.client.query({ query, format: 'JSONEachRow' })).json<{ n: string }>())[0]?.n)
  const out: Record<string, number> = {}
  for (const t of TABLES) out[t] = await one(`SELECT count() AS n FROM ${t}`)
  out.distinctSpans = await one('SELECT uniqExact(project_id, trace_id, span_id) AS n FROM spans')
  out.calls = await one('SELECT sum(calls) AS n FROM spans_minute')
  return out as Counts
}

/**
 * The state an engine killed between recording the deduplication ids and renaming the parts
 * starts with: every part of the data tables removed while it is closed, its deduplication
 * logs kept.
 */
async function loseParts(): Promise<void> {
  const store = await createStore(config().store)
  const parts = await activePartPaths(store, TABLES)
  await store.close()
  expect(parts.length).toBeGreaterThanOrEqual(TABLES.length)
  for (const p of parts) rmSync(p, { recursive: true })
}

const segmentFiles = (d: string) => readdirSync(d).filter((f) => f.endsWith('.seg'))

const metric = (body: string, name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(body)?.[1] ?? 0)

/** A server on the data directory, which replays whatever segments the spool holds. */
async function replay(): Promise<{ server: TestServer; metrics: string }> {
  const server = await startServer(env)
  await server.app.spanlens.flush()
  const metrics = (await server.app.inject({ method: 'GET', url: '/metrics' })).body
  return { server, metrics }
}

function restoreSavedSegments(): number {
  const files = readdirSync(saved)
  for (const f of files) copyFileSync(join(saved, f), join(spoolDir, f))
  return segmentFiles(saved).length
}

let original: Counts
let segments: number

beforeAll(async () => {
  seedMigratedStore(dir.path)
  mkdirSync(saved)
  // The first run keeps a copy of every segment it inserts, as the spool held it.
  const real = await createStore(config().store)
  const store: Store = {
    ...real,
    client: real.client,
    close: async () => undefined,
    insertFile: async (insert: FileInsert) => {
      copyFileSync(insert.path, join(saved, basename(insert.path)))
      const index = insert.path.replace(/\.seg$/, '.idx')
      if (existsSync(index)) copyFileSync(index, join(saved, basename(index)))
      await real.insertFile(insert)
    },
  }
  const server = await startServer(env, { store })
  try {
    const now = BigInt(Date.now()) * 1_000_000n
    const spans = jsonRequest(Array.from({ length: 40 }, (_, i) => ({ name: `restore-${i}`, attributes: llmAttrs('gpt-4o-mini', 100 + i, 10) })))
    const logs = logsJson(
      Array.from({ length: 12 }, (_, i): LogSpec => ({
        // A span not stored here: the content merge (jobs/content-merge.ts) writes no new version of it.
        traceId: 'ee'.repeat(16),
        spanId: 'ff'.repeat(8),
        timeNs: String(now + BigInt(i)),
        eventName: i % 2 ? 'gen_ai.choice' : 'gen_ai.user.message',
        body: i % 2 ? { index: 0, finish_reason: 'stop', message: { content: `answer ${i}` } } : { content: `question ${i}` },
      })),
    )
    const gauge = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'restore' } }] },
          scopeMetrics: [
            {
              scope: { name: 'test' },
              metrics: [
                {
                  name: 'queue.depth',
                  unit: '1',
                  gauge: { dataPoints: Array.from({ length: 8 }, (_, i) => ({ timeUnixNano: String(now + BigInt(i)), asDouble: i, attributes: [{ key: 'q', value: anyValue(`q${i % 3}`) }] })) },
                },
              ],
            },
          ],
        },
      ],
    }
    for (const [path, body] of [
      ['/v1/traces', spans],
      ['/v1/logs', logs],
      ['/v1/metrics', gauge],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) }, body: JSON.stringify(body) })
      expect(res.status, path).toBe(200)
    }
    await server.app.spanlens.flush()
    original = await counts(server.app.spanlens.store)
  } finally {
    await server.close()
    await real.close()
  }
  segments = segmentFiles(saved).length
})

afterAll(() => dir.cleanup())

describe('a replayed segment that an earlier run may have inserted', () => {
  it('is looked up, found whole, and not inserted twice', async () => {
    // Every table was written, one segment each, and every span counted once.
    expect(segments).toBe(4)
    expect(original).toMatchObject({ spans: 40, distinctSpans: 40, calls: 40, logs: 12, span_content: 12, metrics: 8 })
    expect(original.trace_hours).toBeGreaterThan(0)

    expect(restoreSavedSegments()).toBe(4)
    const { server, metrics } = await replay()
    try {
      expect(await counts(server.app.spanlens.store)).toEqual(original)
      expect(metric(metrics, 'spanlens_insert_verified_segments_total\\{result="complete"\\}')).toBe(4)
      expect(metric(metrics, 'spanlens_insert_restored_rows_total')).toBe(0)
      expect(segmentFiles(spoolDir)).toEqual([])
    } finally {
      await server.close()
    }
  })

  it('whose deduplication id outlived its part has its rows inserted again, each once, and counted once in the rollups', async () => {
    await loseParts()
    restoreSavedSegments()
    const { server, metrics } = await replay()
    try {
      expect(await counts(server.app.spanlens.store)).toEqual(original)
      expect(metric(metrics, 'spanlens_insert_verified_segments_total\\{result="restored"\\}')).toBe(4)
      // Every row had been dropped as a duplicate: all of them came back through the restore.
      expect(metric(metrics, 'spanlens_insert_restored_rows_total')).toBe(40 + 12 + 12 + 8)
      expect(segmentFiles(spoolDir)).toEqual([])
    } finally {
      await server.close()
    }
  })

  it('set aside and replayed by `spanlens dead-letter replay` under its token has the rows ClickHouse dropped as duplicates inserted again', async () => {
    // The same lost parts, the segments back in the spool of a stopped server, set aside by an operator.
    await loseParts()
    restoreSavedSegments()
    const lines: string[] = []
    const io = { out: (l: string) => lines.push(l) }
    for (const name of segmentFiles(saved)) expect(await runDeadLetter(['set-aside', name], config, io)).toBe(0)
    expect(await runDeadLetter(['replay'], config, io)).toBe(0)
    expect(lines.filter((l) => /answered as stored before but missing, inserted again/.test(l))).toHaveLength(4)
    const store = await createStore(config().store)
    try {
      expect(await counts(store)).toEqual(original)
    } finally {
      await store.close()
    }
  })
})
