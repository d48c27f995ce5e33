/**
 * What a newest-first page of traces and of spans costs on an empty project, on one whose
 * spans stopped two days ago (1 M spans over the week before) and on a busy one (1 M spans
 * in the last 20 hours), with and without a filter that matches 2% of them: the windows
 * traces/newest.ts reads. Embedded store in `<dir>`, filled again when its busy project's
 * newest span is over 10 minutes old: the shapes are relative to now, and a store kept past
 * the hour would time a busy project whose newest hour is empty; median of 7 reads after one
 * warm-up.
 *
 *   cd bench && node --conditions=@spanlens/source --import tsx query/listing-windows.ts /tmp/listing-data
 */
import { loadConfig } from '@spanlens/ingest'
import { createStore, migrate } from '@spanlens/ingest/store'
import { listSpans, listTraces } from '@spanlens/query'
const dir = process.argv[2]!
const store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: dir } }).store)
await migrate(store)
const c = store.client
const fresh = await (await c.query({ query: "SELECT count() > 0 AS ok FROM spans WHERE project_id = 'dense' AND start_time > now64(9) - INTERVAL 10 MINUTE", format: 'JSONEachRow' })).json<{ ok: number }>()
if (!Number(fresh[0]?.ok)) {
  await c.command({ query: 'TRUNCATE TABLE spans' })
  // sparse: 1M spans 2-9 days ago; dense: 1M spans in the last 20 hours
  for (const [p, off, span] of [['sparse', 2 * 86400, 7 * 86400], ['dense', 0, 20 * 3600]] as const) {
    await c.command({ query: `INSERT INTO spans (project_id, trace_id, span_id, parent_span_id, name, kind, start_time, end_time, duration_ms, status_code, service_name, request_model)
      SELECT '${p}', lower(hex(intDiv(number, 4) + 1)), lower(hex(number + 1)), if(number % 4 = 0, '', lower(hex(intDiv(number, 4) * 4 + 1))), 'op', 'llm',
        now64(9) - toIntervalSecond(${off} + (intDiv(number, 4) * 7919) % ${span}) AS t, t, 10, 'ok', 'svc', if(number % 50 = 0, 'rare', 'gpt')
      FROM numbers(1000000)` })
  }
}
const time = async (label: string, f: () => Promise<unknown>) => {
  await f()
  const ts: number[] = []
  for (let i = 0; i < 7; i++) { const a = performance.now(); await f(); ts.push(performance.now() - a) }
  ts.sort((a, b) => a - b)
  console.log(label.padEnd(34), ts[3]!.toFixed(1), 'ms median')
}
const from = new Date(Date.now() - 30 * 86400_000)
for (const p of ['empty', 'sparse', 'dense']) {
  await time(`traces ${p}`, () => listTraces(c, p, { filter: { from }, limit: 50 }))
  await time(`spans ${p}`, () => listSpans(c, p, { filter: { from }, limit: 50 }))
  await time(`spans ${p} model=rare`, () => listSpans(c, p, { filter: { from, model: ['rare'] }, limit: 50 }))
}
await store.close()
