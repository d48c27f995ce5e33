import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_KEY, startStack, useStack, type Stack } from '@spanlens/example-test-support'
import { storeMode } from '../../../packages/ingest/test/helpers/store-mode.js'
import { runDemo } from '../src/workload.js'
import { startTee, type Tee } from './tee.js'

const env = { SPANLENS_SLO_FILE: fileURLToPath(new URL('../slos.yaml', import.meta.url)) }
const stack = useStack(env)

// Over a served ClickHouse or a cluster, an embedded twin gets every request of the
// workload too (through a tee), and must give the same answers.
let twin: { stack: Stack; tee: Tee } | undefined
beforeAll(async () => {
  if (storeMode() === 'embedded') return
  const embedded = await startStack(env, { embedded: true })
  twin = { stack: embedded, tee: await startTee(stack.spanlensUrl, embedded.spanlensUrl) }
})
afterAll(async () => {
  await twin?.tee.close()
  await twin?.stack.close()
})

async function api<T>(path: string, body?: unknown, base = stack.spanlensUrl): Promise<T> {
  const res = await fetch(`${base}/api/v1/${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  expect(res.status, `${path}: ${res.status}`).toBe(200)
  return (await res.json()) as T
}

interface Drift { drifted: boolean; signals: Array<{ signal: string; drifted: boolean | null }> }
interface Bias { flagged: boolean; bestGroup: string; groups: Array<{ group: string; n: number; value: number; fourFifthsViolation: boolean; significant: boolean | null }> }
interface SloCheck { firing: boolean; alerts: Array<{ slo: string; severity: string }> }
interface SloReport { slos: Array<{ name: string; burnRates: Record<string, number | null> }> }

function roundFloats(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isInteger(v)) return Number(v.toPrecision(9))
  if (Array.isArray(v)) return v.map(roundFloats)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, roundFloats(x)]))
  return v
}

describe('pnpm demo', () => {
  it('leaves data in which the reports find the drift, the refused group and the burning SLO it put there', async () => {
    const summary = await runDemo({ endpoint: twin?.tee.url ?? stack.spanlensUrl, apiKey: API_KEY, tickets: 90, hours: 48, seed: 3 })
    expect(summary.tickets).toBe(180)
    expect(summary.spansDropped).toBe(0)
    expect(summary.failed).toBeGreaterThan(0) // errors and timeouts are part of the workload
    await stack.rows('SELECT 1') // waits until every acknowledged span is in ClickHouse

    const services = await stack.rows<{ service_name: string; release: string; n: string }>(
      'SELECT service_name, release, count() AS n FROM spans GROUP BY ALL ORDER BY ALL',
    )
    expect(services.map((r) => `${r.service_name}@${r.release}`)).toEqual(['summarizer@v1', 'summarizer@v2', 'support-bot@v1', 'support-bot@v2'])
    // Dated over two days, v1 before v2, nothing in the future, children inside their (backdated) parents.
    const [span] = await stack.rows<{ v1_from: number; v1_to: number; v2_from: number; v2_to: number; orphans: string }>(`
      SELECT minIf(start_time, release = 'v1') AS v1_from, maxIf(start_time, release = 'v1') AS v1_to,
             minIf(start_time, release = 'v2') AS v2_from, maxIf(start_time, release = 'v2') AS v2_to
      FROM (SELECT release, toUnixTimestamp(start_time) - toUnixTimestamp(now()) AS start_time FROM spans)`)
    expect(span!.v1_from).toBeLessThan(-47 * 3600)
    expect(span!.v1_to).toBeLessThan(span!.v2_from)
    expect(span!.v2_from).toBeLessThan(-23 * 3600)
    expect(span!.v2_to).toBeLessThanOrEqual(0)
    // OpenTelemetry JS dates each span from performance.now() plus an offset to Date.now() taken per span, at
    // millisecond resolution: two spans' clocks can disagree by ~1 ms, so the window allows 2 ms each side.
    const outside = await stack.rows<{ name: string; parent: string; early_ms: number; late_ms: number }>(`
      SELECT c.name AS name, p.name AS parent,
             dateDiff('millisecond', c.start_time, p.start_time) AS early_ms,
             dateDiff('millisecond', p.start_time + toIntervalMillisecond(toInt64(p.duration_ms)), c.start_time) AS late_ms
      FROM spans AS c INNER JOIN spans AS p ON c.trace_id = p.trace_id AND c.parent_span_id = p.span_id
      WHERE c.start_time < p.start_time - toIntervalMillisecond(2)
         OR c.start_time > p.start_time + toIntervalMillisecond(toInt64(p.duration_ms) + 2)
      LIMIT 5`)
    expect(outside).toEqual([])
    const [scores] = await stack.rows<{ n: string }>("SELECT count() AS n FROM scores WHERE name = 'feedback'")
    expect(Number(scores?.n)).toBeGreaterThan(100)

    // The questions the README's CLI commands ask, as of one time, so that two stores can be compared.
    const now = Date.now()
    const ago = (hours: number) => new Date(now - hours * 3_600_000).toISOString()
    const supportBot = { service: ['support-bot'] }
    const ask = async (base: string) => ({
      drift: await api<Drift>('drift', { dimension: 'release', reference: 'v1', current: 'v2', filter: supportBot }, base),
      // The same change as two time windows: v1 had the first day, v2 the second.
      byTime: await api<Drift>('drift', { reference: { from: ago(48), to: ago(24) }, current: { from: ago(24), to: ago(0) }, filter: supportBot }, base),
      bias: await api<Bias>('bias', { groupBy: 'attr:spanlens.metadata.plan', outcome: 'refusal_rate', filter: supportBot }, base),
      sloDuringV1: await api<SloReport>(`slo?at=${ago(25)}`, undefined, base),
      slo: await api<SloReport>(`slo?at=${ago(0)}`, undefined, base),
      check: await api<SloCheck>(`slo/check?at=${ago(0)}`, undefined, base),
    })
    const answers = await ask(stack.spanlensUrl)

    expect(answers.drift.drifted).toBe(true)
    const drifted = answers.drift.signals.filter((s) => s.drifted).map((s) => s.signal)
    expect(drifted).toEqual(expect.arrayContaining(['model', 'output_tokens', 'latency']))
    expect(drifted).not.toContain('input_tokens') // unchanged between releases: no false alarm
    expect(answers.byTime.signals.filter((s) => s.drifted).map((s) => s.signal)).toEqual(expect.arrayContaining(['model', 'output_tokens', 'latency']))

    expect(answers.bias.flagged, JSON.stringify(answers.bias.groups)).toBe(true)
    const free = answers.bias.groups.find((g) => g.group === 'free')
    expect(free).toMatchObject({ fourFifthsViolation: true, significant: true })
    expect(answers.bias.groups.filter((g) => g.group !== 'free').every((g) => !g.fourFifthsViolation)).toBe(true)

    // A regression: the latency SLO burns many times faster over v2's day than it did over v1's, and pages now.
    const burn1d = (r: SloReport) => r.slos.find((s) => s.name === 'support-bot-latency')?.burnRates['1d'] ?? NaN
    expect(burn1d(answers.sloDuringV1)).toBeLessThan(burn1d(answers.slo) / 5)
    expect(answers.check.firing).toBe(true)
    expect(answers.check.alerts).toEqual(expect.arrayContaining([expect.objectContaining({ slo: 'support-bot-latency', severity: 'page' })]))

    if (twin) {
      await twin.stack.rows('SELECT 1')
      expect(twin.tee.secondFailures).toEqual([])
      // Sums of floats depend on the order shards' partial sums are added in.
      expect(roundFloats(answers)).toEqual(roundFloats(await ask(twin.stack.spanlensUrl)))
    }
  }, 120_000)
})
