import { request } from 'node:http'
import { describe, expect, it } from 'vitest'
import { withFaultyServer } from './helpers/faulty-store.js'
import { jsonRequest } from './helpers/otlp.js'
import { bearer, KEYS, startServer } from './helpers/server.js'

// Every way an upload can end gives its ingest slot back, and one project's
// slow, stalled or heavy clients cannot take another project's slots or spool.

async function send(url: string, key: string, n = 1, name = 'admission'): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(key) },
    body: JSON.stringify(jsonRequest(Array.from({ length: n }, () => ({ name })))),
  })
  const text = await res.text()
  return { status: res.status, ...(res.status === 200 ? {} : { code: (JSON.parse(text) as { error?: { code?: string } }).error?.code }) }
}

/** An upload that sends the start of a body and then does `then` (never finishes on its own). */
function partialUpload(url: string, key: string, then: 'abort' | 'stall'): { done: Promise<number | 'aborted'>; abort: () => void } {
  const req = request(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '100000', ...bearer(key) } })
  const done = new Promise<number | 'aborted'>((resolve) => {
    req.on('response', (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', () => resolve('aborted'))
  })
  req.write('{"resourceSpans":[')
  const abort = () => req.destroy()
  if (then === 'abort') setTimeout(abort, 50)
  return { done, abort }
}

const settle = async (check: () => boolean, ms = 3000) => {
  const until = Date.now() + ms
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
}

describe('ingest slots are released however a request ends', () => {
  it('uploads whose client disconnects mid-body give their slots back', async () => {
    await withFaultyServer({ SPANLENS_MAX_CONCURRENT_REQUESTS: '4' }, async ({ url, app }) => {
      // Many more aborts than slots: each one used to keep its slot until restart.
      for (let round = 0; round < 3; round++) {
        const uploads = Array.from({ length: 4 }, () => partialUpload(url, KEYS.acme, 'abort'))
        await Promise.all(uploads.map((u) => u.done))
      }
      await settle(() => app.spanlens.pipeline.inFlightRequests() === 0)
      expect(app.spanlens.pipeline.inFlightRequests()).toBe(0)
      expect((await send(url, KEYS.acme)).status).toBe(200)
      expect((await send(url, KEYS.other)).status).toBe(200)
    })
  })

  it('a body that stalls is refused with 408 SPANLENS_BODY_TIMEOUT after SPANLENS_BODY_TIMEOUT_MS, and its slot is free', async () => {
    await withFaultyServer({ SPANLENS_BODY_TIMEOUT_MS: '300', SPANLENS_MAX_CONCURRENT_REQUESTS: '2' }, async ({ url, app }) => {
      const started = Date.now()
      const stalled = partialUpload(url, KEYS.acme, 'stall')
      const status = await stalled.done
      stalled.abort()
      expect(status).toBe(408)
      expect(Date.now() - started).toBeLessThan(5000)
      await settle(() => app.spanlens.pipeline.inFlightRequests() === 0)
      expect(app.spanlens.pipeline.inFlightRequests()).toBe(0)
      const metrics = await (await fetch(`${url}/metrics`)).text()
      expect(metrics).toMatch(/spanlens_ingest_requests_rejected_total\{reason="body_timeout"\} 1/)
    })
  })
})

describe('one project cannot starve another', () => {
  it("one project's slow uploads take at most its share of the slots; the other project's requests all get through", async () => {
    await withFaultyServer({ SPANLENS_MAX_CONCURRENT_REQUESTS: '8', SPANLENS_BODY_TIMEOUT_MS: '10000' }, async ({ url, app }) => {
      // 20 slow uploads from acme (the per-project default is half the slots: 4).
      const slow = Array.from({ length: 20 }, () => partialUpload(url, KEYS.acme, 'stall'))
      await settle(() => app.spanlens.pipeline.inFlightRequests('acme') === 4)
      expect(app.spanlens.pipeline.inFlightRequests('acme')).toBe(4)
      const refused = (await Promise.race([Promise.all(slow.slice(4).map((u) => u.done)), new Promise((r) => setTimeout(() => r('pending'), 2000))])) as number[]
      expect(refused).toEqual(Array.from({ length: 16 }, () => 429))
      // Meanwhile the other project sends normally, several at a time.
      for (let i = 0; i < 5; i++) {
        const replies = await Promise.all([send(url, KEYS.other), send(url, KEYS.other), send(url, KEYS.other)])
        expect(replies.map((r) => r.status)).toEqual([200, 200, 200])
      }
      const overloaded = await send(url, KEYS.acme)
      expect(overloaded).toEqual({ status: 429, code: 'SPANLENS_OVERLOADED' })
      for (const u of slow) u.abort()
      await settle(() => app.spanlens.pipeline.inFlightRequests() === 0)
      expect((await send(url, KEYS.acme)).status).toBe(200)
    })
  })

  it('a project whose unconfirmed spans fill its share of the spool gets 503; another project still gets 200', async () => {
    const env = { SPANLENS_SPOOL_MAX_BYTES: String(1024 * 1024), SPANLENS_SPOOL_PROJECT_SHARE: '0.5', SPANLENS_BATCH_MAX_AGE_MS: '20' }
    await withFaultyServer(env, async ({ url, app, store }) => {
      store.fault = 'down'
      let refused: { status: number; code?: string } | undefined
      for (let i = 0; i < 200 && !refused; i++) {
        const r = await send(url, KEYS.acme, 100, 'share')
        if (r.status !== 200) refused = r
      }
      expect(refused).toEqual({ status: 503, code: 'SPANLENS_SPOOL_FULL' })
      expect(app.spanlens.pipeline.spool.bytes).toBeLessThan(1024 * 1024 * 0.6)
      expect(await send(url, KEYS.other, 100, 'share')).toEqual({ status: 200 })
      store.fault = 'ok'
      await app.spanlens.flush()
      expect((await send(url, KEYS.acme, 1, 'share')).status).toBe(200)
    })
  }, 60_000)
})

describe("an analyst's query whose client leaves", () => {
  it('never runs when the client closed the connection while it waited for its turn', async () => {
    // Embedded mode admits one analyst query at a time (query/src/admission.ts).
    const s = await startServer()
    try {
      // Every statement the store is sent, whichever call sends it (the sandbox runs the query through exec).
      const sent: string[] = []
      const client = s.app.spanlens.store.client
      const query = client.query.bind(client)
      const exec = client.exec.bind(client)
      client.query = ((params: Parameters<typeof client.query>[0]) => {
        sent.push(params.query)
        return query(params)
      }) as typeof client.query
      client.exec = ((params: Parameters<typeof client.exec>[0]) => {
        sent.push(params.query)
        return exec(params)
      }) as typeof client.exec
      const sql = (q: string, signal?: AbortSignal) =>
        fetch(`${s.url}/api/v1/sql`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) }, body: JSON.stringify({ query: q }), ...(signal ? { signal } : {}) })
      // About a second of CPU: long enough for the second request to queue behind it.
      const slow = sql('SELECT count() AS n FROM numbers(15000000) WHERE sipHash64(number) % 7 = 1')
      await settle(() => sent.length > 0)
      const leaving = new AbortController()
      const abandoned = sql('SELECT 4242 AS abandoned_marker', leaving.signal).catch((err: Error) => err.name)
      await new Promise((r) => setTimeout(r, 100))
      leaving.abort()
      expect(await abandoned).toBe('AbortError')
      expect((await slow).status).toBe(200)
      // The next query runs at once: the abandoned one left the queue.
      expect((await sql('SELECT 1 AS after')).status).toBe(200)
      expect(sent.filter((q) => q.includes('abandoned_marker'))).toEqual([])
      expect(sent.some((q) => q.includes('AS after'))).toBe(true)
    } finally {
      await s.close()
    }
  })
})
