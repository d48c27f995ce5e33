import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { API_KEY, useStack } from '@spanlens/example-test-support'
import { runDemo } from '../src/workload.js'

const stack = useStack({ SPANLENS_SLO_FILE: fileURLToPath(new URL('../slos.yaml', import.meta.url)) })

async function api<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${stack.spanlensUrl}/api/v1/${path}`, {
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

describe('pnpm demo', () => {
  it('leaves data in which the reports find the drift, the refused group and the burning SLO it put there', async () => {
    const summary = await runDemo({ endpoint: stack.spanlensUrl, apiKey: API_KEY, tickets: 90, seed: 3 })
    expect(summary.tickets).toBe(180)
    expect(summary.spansDropped).toBe(0)
    expect(summary.failed).toBeGreaterThan(0) // errors and timeouts are part of the workload
    await stack.rows('SELECT 1') // waits until every acknowledged span is in ClickHouse

    const services = await stack.rows<{ service_name: string; release: string; n: string }>(
      'SELECT service_name, release, count() AS n FROM spans GROUP BY ALL ORDER BY ALL',
    )
    expect(services.map((r) => `${r.service_name}@${r.release}`)).toEqual(['summarizer@v1', 'summarizer@v2', 'support-bot@v1', 'support-bot@v2'])
    const [scores] = await stack.rows<{ n: string }>("SELECT count() AS n FROM scores WHERE name = 'feedback'")
    expect(Number(scores?.n)).toBeGreaterThan(100)

    const drift = await api<Drift>('drift', { dimension: 'release', reference: 'v1', current: 'v2', filter: { service: ['support-bot'] } })
    expect(drift.drifted).toBe(true)
    const drifted = drift.signals.filter((s) => s.drifted).map((s) => s.signal)
    expect(drifted).toEqual(expect.arrayContaining(['model', 'output_tokens', 'latency']))
    expect(drifted).not.toContain('input_tokens') // unchanged between releases: no false alarm

    const bias = await api<Bias>('bias', { groupBy: 'attr:spanlens.metadata.plan', outcome: 'refusal_rate', filter: { service: ['support-bot'] } })
    expect(bias.flagged).toBe(true)
    const free = bias.groups.find((g) => g.group === 'free')
    expect(free).toMatchObject({ fourFifthsViolation: true, significant: true })
    expect(bias.groups.filter((g) => g.group !== 'free').every((g) => !g.fourFifthsViolation)).toBe(true)

    const slo = await api<SloCheck>('slo/check')
    expect(slo.firing).toBe(true)
    expect(slo.alerts).toEqual(expect.arrayContaining([expect.objectContaining({ slo: 'support-bot-latency', severity: 'page' })]))
  }, 120_000)
})
