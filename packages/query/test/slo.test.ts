import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@spanlens/ingest'
import { parseSloText, sloStatus } from '../src/index.js'
import { insertSpans, openStore, span } from './helpers/store.js'

let store: Store
let close: () => Promise<void>
const at = new Date(Math.floor(Date.now() / 60_000) * 60_000)
const ago = (ms: number) => new Date(at.getTime() - ms)

const FILE = `
slos:
  - name: chat-availability
    service: chat
    objective: 99.9
    window: 30d
    indicator: { type: success }
  - name: chat-latency
    service: chat
    objective: 0.99
    window: 30d
    indicator: { type: latency, thresholdMs: 1000 }
  - name: quiet
    service: quiet
    objective: 99
    indicator: { type: success }
  - name: tools
    objective: 90
    indicator:
      type: ratio
      total: { kind: tool }
      good: { kind: tool, status: ok }
`

beforeAll(async () => {
  ;({ store, close } = await openStore())
  // 1000 calls in the last 4 minutes, 15 failed (1.5% errors = 15x burn at 99.9%), 30 slower than 1 s.
  const rows = Array.from({ length: 1000 }, (_, i) =>
    span({ service_name: 'chat', start: ago(60_000 + (i % 180) * 1000), status_code: i < 15 ? 'error' : 'ok', duration_ms: i >= 970 ? 2500 : 200 }),
  )
  // quiet: traffic 2 days ago only, all good
  rows.push(...Array.from({ length: 100 }, () => span({ service_name: 'quiet', start: ago(2 * 86_400_000) })))
  // tools: 8 of 10 ok in the last 10 minutes
  rows.push(...Array.from({ length: 10 }, (_, i) => span({ service_name: 'agent', kind: 'tool', start: ago(10 * 60_000), status_code: i < 2 ? 'error' : 'ok' })))
  await insertSpans(store, rows)
})
afterAll(async () => close())

describe('SLO burn rates and alerts', () => {
  it('a 15x burn pages on 1h & 5m and reports SLI, budget and every burn rate', async () => {
    const report = await sloStatus(store.client, 'p1', parseSloText(FILE), { at })
    const s = report.slos.find((x) => x.name === 'chat-availability')
    expect(s?.source).toBe('rollup')
    expect(s?.total).toBe(1000)
    expect(s?.sli).toBeCloseTo(0.985, 12)
    expect(s?.burnRates['1h']).toBeCloseTo(15, 9)
    expect(s?.burnRates['5m']).toBeCloseTo(15, 9)
    expect(s?.burnRates['3d']).toBeCloseTo(15, 9)
    expect(s?.errorBudget.remaining).toBeCloseTo(1 - 15, 9)
    // Exactly: 15 bad in 1,000 against 99.9% is 15 times the budget, not 14.999999999999986
    // (1 − 0.999 is 0.0010000000000000009 in binary floating point).
    expect([s?.burnRates['1h'], s?.burnRates['3d']]).toEqual([15, 15])
    expect(s?.errorBudget).toEqual({ remaining: -14, consumed: 15 })
    expect(s?.alerts.filter((a) => a.firing).map((a) => `${a.severity}:${a.longWindow}`)).toEqual(['page:1h', 'page:6h', 'ticket:1d', 'ticket:3d'])
    expect(report.firing).toBe(true)
  })

  it('latency SLI counts spans at or under the threshold as good', async () => {
    const report = await sloStatus(store.client, 'p1', parseSloText(FILE), { at })
    const s = report.slos.find((x) => x.name === 'chat-latency')
    expect(s?.source).toBe('spans')
    expect(s?.sli).toBeCloseTo(0.97, 12)
    // 3% bad at 99%: 3x burn -> tickets (3x over 1d & 2h; 1x over 3d & 6h) but no page
    expect(s?.burnRates['1h']).toBeCloseTo(3, 9)
    expect(s?.alerts.map((a) => a.firing)).toEqual([false, false, true, true])
  })

  it('no traffic in a window gives null burn rates and no alert; a ratio SLI of two filters', async () => {
    const report = await sloStatus(store.client, 'p1', parseSloText(FILE), { at })
    const quiet = report.slos.find((x) => x.name === 'quiet')
    expect(quiet?.burnRates['1h']).toBeNull()
    expect(quiet?.burnRates['3d']).toBe(0)
    expect(quiet?.firing).toBe(false)
    expect(quiet?.errorBudget.remaining).toBe(1)
    const tools = report.slos.find((x) => x.name === 'tools')
    expect(tools?.sli).toBeCloseTo(0.8, 12)
    expect(tools?.burnRates['30m']).toBeCloseTo(2, 9)
  })

  it('evaluated inside a minute, a rollup SLO counts only the minutes that have ended by then', async () => {
    const mid = `
slos:
  - name: mid
    service: mid
    objective: 99
    indicator: { type: success }
`
    // A project of this attempt's own: a retried attempt (cluster mode) must not count the spans of the one before.
    const project = `mid-${randomUUID().slice(0, 8)}`
    // 10 good calls two minutes before `at`; 5 failures 20 s into `at`'s minute, evaluated 10 s into it.
    await insertSpans(store, [
      ...Array.from({ length: 10 }, () => span({ project_id: project, service_name: 'mid', start: ago(90_000) })),
      ...Array.from({ length: 5 }, () => span({ project_id: project, service_name: 'mid', start: new Date(at.getTime() + 20_000), status_code: 'error' })),
    ])
    const [s] = (await sloStatus(store.client, project, parseSloText(mid), { at: new Date(at.getTime() + 10_000) })).slos
    expect(s).toMatchObject({ source: 'rollup', total: 10, good: 10, firing: false })
    const [later] = (await sloStatus(store.client, project, parseSloText(mid), { at: new Date(at.getTime() + 60_000) })).slos
    expect(later).toMatchObject({ total: 15, good: 10 })
  })

  it('an empty project has no SLI and fires nothing', async () => {
    const report = await sloStatus(store.client, 'nobody', parseSloText(FILE), { at })
    expect(report.firing).toBe(false)
    expect(report.slos.every((s) => s.sli === null)).toBe(true)
  })
})
