import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, KEYS, startServer, type TestServer } from './helpers/server.js'

let server: TestServer
beforeAll(async () => {
  server = await startServer({ SPANLENS_SQL_MAX_EXECUTION_SECONDS: '5' })
})
afterAll(async () => server.close())

describe('/readyz while the embedded engine runs a long analyst query', () => {
  it('answers 200 within 1 s with the store busy, and another project is served after that one query', async () => {
    const t0 = Date.now()
    const heavy = fetch(`${server.url}/api/v1/sql`, {
      method: 'POST',
      headers: { ...bearer(KEYS.acme), 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'SELECT sum(cityHash64(number)) FROM numbers(1e12)' }),
    })
    await new Promise((r) => setTimeout(r, 500))
    const asked = Date.now()
    const ready = await fetch(`${server.url}/readyz`)
    const body = (await ready.json()) as { checks: { store: string }; storeBusySeconds: number | null }
    // Well within Kubernetes' default readinessProbe timeout of 1 s, the query still running.
    expect(Date.now() - asked).toBeLessThan(1000)
    // Before: the ping waited behind the query and /readyz answered 503 after 2 s.
    expect(ready.status).toBe(200)
    expect(body.checks.store).toBe('busy')
    expect(body.storeBusySeconds).toBeGreaterThan(0)
    const other = await fetch(`${server.url}/api/v1/spans`, { headers: bearer(KEYS.other) })
    expect(other.status).toBe(200)
    const heavyRes = await heavy
    expect(heavyRes.status).toBe(400)
    expect(((await heavyRes.json()) as { error: { code: string } }).error.code).toBe('SPANLENS_SQL_LIMIT')
    expect(Date.now() - t0).toBeLessThan(15_000)
    const after = await fetch(`${server.url}/readyz`)
    expect(after.status).toBe(200)
    expect(((await after.json()) as { checks: { store: string } }).checks.store).toBe('ok')
  })
})
