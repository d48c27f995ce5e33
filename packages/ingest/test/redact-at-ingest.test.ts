import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KEYS, startServer, type TestServer } from './helpers/server.js'

describe('SPANLENS_REDACT at ingest', () => {
  let server: TestServer
  beforeAll(async () => {
    // Recorded payloads keep the times they were recorded at (retention 0 keeps them whatever their age).
    server = await startServer({ SPANLENS_REDACT: 'on', SPANLENS_RETENTION_DAYS: '0' })
  })
  afterAll(() => server.close())

  it('redacts prompts, completions and attributes of a real library payload before storage', async () => {
    const root = new URL('./fixtures/otlp/', import.meta.url)
    const res = await fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${KEYS.acme}` },
      body: readFileSync(new URL('openllmetry/chat-pii.pb', root)),
    })
    expect(res.status).toBe(200)
    await server.app.spanlens.flush()
    const rows = await server.rows<{ input: string; output: string; attrs: string }>(
      "SELECT input, output, toJSONString(attributes) AS attrs FROM spans WHERE kind = 'llm'",
    )
    expect(rows.length).toBeGreaterThan(0)
    const all = JSON.stringify(rows)
    expect(all).not.toContain('jane.doe@example.com')
    expect(all).toContain('[REDACTED_EMAIL]')
  })
})
