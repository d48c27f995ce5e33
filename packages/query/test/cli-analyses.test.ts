import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@spanlens/ingest'
import { runCli } from '../src/index.js'
import { insertSpans, openStore, span, queryApp } from './helpers/store.js'

/**
 * The analysis commands (drift, bias, bias counterfactual) against the real routes
 * over the project's store, on data with one planted effect each. (traces, slo and
 * sql: http.test.ts; parsing, help and table layout: cli.unit.test.ts.)
 */
let store: Store
let close: () => Promise<void>
let app: FastifyInstance
let url: string

const REFUSAL = "I'm sorry, but I can't help with that."

beforeAll(async () => {
  ;({ store, close } = await openStore())
  await insertSpans(store, [
    // v2 answers slower and three times longer than v1.
    ...Array.from({ length: 40 }, (_, i) => span({ release: 'v1', duration_ms: 100 + i, output_tokens: 20 + (i % 5) })),
    ...Array.from({ length: 40 }, (_, i) => span({ release: 'v2', duration_ms: 300 + i, output_tokens: 60 + (i % 5) })),
    // The free plan is refused in half of its answers, pro never.
    ...Array.from({ length: 40 }, (_, i) => span({ project_id: 'plans', attributes: { plan: 'free' }, output: i % 2 ? REFUSAL : 'Sure!' })),
    ...Array.from({ length: 40 }, () => span({ project_id: 'plans', attributes: { plan: 'pro' }, output: 'Sure!' })),
    // Counterfactual pairs: side b refused in 10 of 12, side a never.
    ...Array.from({ length: 12 }, (_, i) =>
      (['a', 'b'] as const).map((side) =>
        span({ project_id: 'plans', output: side === 'b' && i < 10 ? REFUSAL : 'Here you go', attributes: { 'spanlens.counterfactual.pair_id': `p${i}`, 'spanlens.counterfactual.side': side } }),
      ),
    ).flat(),
    // 20 spans each 40 h, 28 h and 12 h ago.
    ...[40, 28, 12].flatMap((h) => Array.from({ length: 20 }, (_, i) => span({ project_id: 'windows', start: new Date(Date.now() - h * 3_600_000 + i * 1000), duration_ms: 100 + i }))),
  ])
  app = await queryApp(store, { 'key-p1-secret': 'p1', 'key-plans-secret': 'plans', 'key-windows-secret': 'windows' }, { sql: { maxExecutionSeconds: 5, maxMemoryBytes: 256 * 1024 * 1024, maxResultRows: 1000, maxResultBytes: 64 * 1024 * 1024 } })
  url = await app.listen({ port: 0, host: '127.0.0.1' })
})
afterAll(async () => {
  await app.close()
  await close()
})

async function cli(key: string, ...argv: string[]) {
  let stdout = ''
  let stderr = ''
  const code = await runCli([...argv, '--url', url], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { SPANLENS_API_KEY: key } })
  return { code, stdout, stderr }
}

describe('spanlens drift and bias against a server', () => {
  it('drift between two releases names the signals that moved', async () => {
    const r = await cli('key-p1-secret', 'drift', '--dimension', 'release', '--reference', 'v1', '--current', 'v2', '--json')
    expect(r.code, r.stderr).toBe(0)
    const body = JSON.parse(r.stdout) as { drifted: boolean; nReference: number; nCurrent: number; signals: Array<{ signal: string; drifted: boolean | null }> }
    expect(body).toMatchObject({ drifted: true, nReference: 40, nCurrent: 40 })
    const drifted = body.signals.filter((s) => s.drifted).map((s) => s.signal)
    expect(drifted).toEqual(expect.arrayContaining(['latency', 'output_tokens']))
    expect(drifted).not.toContain('input_tokens')

    const table = await cli('key-p1-secret', 'drift', '--dimension', 'release', '--reference', 'v1', '--current', 'v2', '--signals', 'latency')
    expect(table.stdout).toMatch(/^reference 40 spans, current 40 spans: DRIFT\n/)
    expect(table.stdout).toMatch(/latency .* true /)
  })

  it('drift between two time windows keeps --from: the windows are read within it', async () => {
    const r = await cli('key-windows-secret', 'drift', '--reference', 'now-48h..now-24h', '--current', 'now-24h..', '--from', 'now-30h', '--signals', 'latency', '--min-samples', '2', '--json')
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ nReference: 20, nCurrent: 20 })
  })

  it('bias flags the refused group; counterfactual pairs compare the two sides', async () => {
    const r = await cli('key-plans-secret', 'bias', '--group-by', 'attr:plan', '--outcome', 'refusal_rate', '--min-group-size', '20', '--json')
    expect(r.code, r.stderr).toBe(0)
    const body = JSON.parse(r.stdout) as { flagged: boolean; bestGroup: string; groups: Array<{ group: string; n: number; value: number; fourFifthsViolation: boolean }> }
    expect(body).toMatchObject({ flagged: true, bestGroup: 'pro' })
    expect(body.groups.find((g) => g.group === 'free')).toMatchObject({ n: 40, value: 0.5, fourFifthsViolation: true })
    expect((await cli('key-plans-secret', 'bias', '--group-by', 'attr:plan', '--outcome', 'refusal_rate', '--min-group-size', '20')).stdout).toContain('FLAGGED')

    const pairs = await cli('key-plans-secret', 'bias', 'counterfactual')
    expect(pairs.code, pairs.stderr).toBe(0)
    expect(JSON.parse(pairs.stdout)).toMatchObject({ pairs: 12, refusal: { onlyA: 0, onlyB: 10, significant: true } })
  })

  it('too little data is the API error, exit 1', async () => {
    const r = await cli('key-p1-secret', 'drift', '--dimension', 'release', '--reference', 'v1', '--current', 'v9')
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('SPANLENS_NOT_ENOUGH_DATA')
  })
})
