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
  it("redacts a posted score's comment and label, as it does a span's content", async () => {
    const body = { traceId: 'ab'.repeat(16), name: 'feedback', value: 'wrote to jane.doe@example.com', comment: 'call me on +1 415 555 0100 or jane.doe@example.com\nsk-proj-abcdefghijklmnopqrstuvwx' }
    const res = await fetch(`${server.url}/api/v1/scores`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.acme}` },
      body: JSON.stringify(body),
    })
    expect(res.status).toBe(201)
    const [row] = await server.rows<{ string_value: string; comment: string }>("SELECT string_value, comment FROM scores WHERE name = 'feedback'")
    expect(row).toEqual({
      string_value: 'wrote to [REDACTED_EMAIL]',
      comment: 'call me on [REDACTED_PHONE] or [REDACTED_EMAIL]\n[REDACTED_SECRET]',
    })
  })
})
