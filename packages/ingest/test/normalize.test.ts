import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PriceTable } from '../src/normalize/cost.js'
import { createRedactor } from '../src/normalize/redact.js'
import { normalizeSpan, nsToSeconds } from '../src/normalize/normalize.js'
import type { OtlpSpan } from '../src/otlp/model.js'
import { KEYS, startServer, type TestServer } from './helpers/server.js'
import { tempDir } from './helpers/tmp.js'
import { jsonRequest } from './helpers/otlp.js'
import { prepare } from '../src/pipeline/prepare.js'
import { encodeRow } from '../src/pipeline/row-format.js'
import { decodeJson } from '../src/otlp/decode.js'

const span = (attributes: OtlpSpan['attributes'], extra: Partial<OtlpSpan> = {}): OtlpSpan => ({
  resource: { 'service.name': 'svc' },
  scopeName: 'test',
  scopeVersion: '',
  traceId: 'a'.repeat(32),
  spanId: 'b'.repeat(16),
  parentSpanId: '',
  name: 'x',
  kind: 3,
  startNs: '1790000000000000000',
  endNs: '1790000000250000000',
  attributes,
  events: [],
  links: [],
  statusCode: 0,
  statusMessage: '',
  ...extra,
})

describe('cost', () => {
  const prices = PriceTable.load()

  it('prices by exact name, dated snapshot and provider-prefixed ids, longest prefix first', () => {
    const usage = { input: 1_000_000, output: 1_000_000, cacheRead: 0, cacheWrite: 0 }
    expect(prices.cost(['gpt-4o-mini'], usage)).toBeCloseTo(0.75)
    expect(prices.cost(['gpt-4o-mini-2024-07-18'], usage)).toBeCloseTo(0.75)
    expect(prices.cost(['gpt-4o-2024-08-06'], usage)).toBeCloseTo(12.5)
    expect(prices.cost(['openai/gpt-4o'], usage)).toBeCloseTo(12.5)
    expect(prices.cost(['claude-sonnet-4-5-20250929'], usage)).toBeCloseTo(18)
    expect(prices.cost(['models/gemini-2.0-flash'], usage)).toBeCloseTo(0.5)
  })

  it('unknown model or no usage is null, not zero', () => {
    expect(prices.cost(['my-finetune-v3'], { input: 10, output: 10, cacheRead: 0, cacheWrite: 0 })).toBeNull()
    expect(prices.cost(['gpt-4o'], { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 })).toBeNull()
    expect(prices.cost(['', ''], { input: 10, output: 0, cacheRead: 0, cacheWrite: 0 })).toBeNull()
  })

  it('prices cache reads and writes separately from fresh input', () => {
    // claude-sonnet-4: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million
    const c = prices.cost(['claude-sonnet-4'], { input: 1_000_000, output: 0, cacheRead: 400_000, cacheWrite: 100_000 })
    expect(c).toBeCloseTo(0.5 * 3 + 0.4 * 0.3 + 0.1 * 3.75)
  })

  it('a prices file overrides and extends the table; a bad one names the variable', () => {
    const dir = tempDir()
    try {
      const file = join(dir.path, 'prices.yaml')
      writeFileSync(file, 'models:\n  my-finetune: { input: 1, output: 2 }\n  gpt-4o: { input: 100, output: 100 }\n')
      const custom = PriceTable.load(file)
      expect(custom.cost(['my-finetune-v3'], { input: 1e6, output: 1e6, cacheRead: 0, cacheWrite: 0 })).toBeCloseTo(3)
      expect(custom.cost(['gpt-4o'], { input: 1e6, output: 0, cacheRead: 0, cacheWrite: 0 })).toBeCloseTo(100)
      writeFileSync(file, 'models:\n  x: { input: -1, output: 2 }\n')
      expect(() => PriceTable.load(file)).toThrow(/SPANLENS_PRICES_FILE/)
    } finally {
      dir.cleanup()
    }
  })

  it('the normalizer stores cost only for model calls', () => {
    const llm = normalizeSpan(span({ 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 1000, 'gen_ai.operation.name': 'chat' }), 'p', { prices })
    expect(llm.cost_usd).toBeCloseTo(0.0025)
    const chain = normalizeSpan(span({ 'traceloop.span.kind': 'workflow', 'gen_ai.usage.input_tokens': 1000, 'gen_ai.request.model': 'gpt-4o' }), 'p', { prices })
    expect(chain.kind).toBe('chain')
    expect(chain.cost_usd).toBeNull()
  })
})

describe('redaction', () => {
  const redact = createRedactor(['email', 'phone', 'card', 'secret']) as (s: string) => string

  it.each([
    ['mail jane.doe@example.com now', 'mail [REDACTED_EMAIL] now'],
    ['call +1 (415) 555-0132 today', 'call [REDACTED_PHONE] today'],
    ['call 020 7946 0958', 'call [REDACTED_PHONE]'],
    ['card 4111 1111 1111 1111 ok', 'card [REDACTED_CARD] ok'],
    ['key sk-proj-abcdefghijklmnop1234 here', 'key [REDACTED_SECRET] here'],
    ['aws AKIAIOSFODNN7EXAMPLE', 'aws [REDACTED_SECRET]'],
    ['Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345', 'Authorization: [REDACTED_SECRET]'],
  ])('%s', (input, expected) => {
    expect(redact(input)).toBe(expected)
  })

  it('leaves ordinary numbers, dates and non-Luhn digit runs alone', () => {
    for (const text of ['order 1234567890123 shipped', 'in 2026-11-22 at 10:30', 'total 42 tokens', 'v1.2.3']) {
      expect(redact(text)).toBe(text)
    }
  })

  it('resource attributes: flattened and redacted once per resource object, the same for every span of it, per redactor', () => {
    const prices = PriceTable.load(undefined)
    const resource = { 'service.name': 'svc', 'host.owner': 'ops@example.com', 'process.pid': 42 }
    const spans = [span({}, { resource }), span({}, { resource, spanId: 'c'.repeat(16) })]
    const redacted = spans.map((s) => normalizeSpan(s, 'p', { prices, redact }))
    expect(redacted[0]?.resource_attributes).toEqual({ 'service.name': 'svc', 'host.owner': '[REDACTED_EMAIL]', 'process.pid': '42' })
    expect(redacted[1]?.resource_attributes).toBe(redacted[0]?.resource_attributes)
    // Shared between rows, so it cannot be changed through one of them.
    expect(Object.isFrozen(redacted[0]?.resource_attributes)).toBe(true)
    // The same resource object under another redaction setting is not served from the first.
    expect(normalizeSpan(spans[0] as OtlpSpan, 'p', { prices }).resource_attributes['host.owner']).toBe('ops@example.com')
    // And the encoded row carries the resource exactly as an unshared copy would.
    const shared = encodeRow(redacted[1] as NonNullable<(typeof redacted)[1]>)
    const copy = encodeRow({ ...(redacted[1] as NonNullable<(typeof redacted)[1]>), resource_attributes: { ...redacted[1]?.resource_attributes } })
    expect(shared).toBe(copy)
    expect(shared).toContain("{'service.name':'svc','host.owner':'[REDACTED_EMAIL]','process.pid':'42'}")
  })

  it('only the configured rules apply', () => {
    const emailOnly = createRedactor(['email']) as (s: string) => string
    expect(emailOnly('a@b.io 4111 1111 1111 1111')).toBe('[REDACTED_EMAIL] 4111 1111 1111 1111')
    expect(createRedactor([])).toBeUndefined()
  })
})

describe('precedence and edge cases', () => {
  const prices = PriceTable.load()

  it('current OTel names win over older ones and over other conventions', () => {
    const r = normalizeSpan(
      span({
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.system': 'openai',
        'gen_ai.usage.input_tokens': 10,
        'gen_ai.usage.prompt_tokens': 99,
        'llm.token_count.prompt': 77,
        'gen_ai.request.model': 'claude-haiku-4-5',
        'llm.model_name': 'other',
      }),
      'p',
      { prices },
    )
    expect(r).toMatchObject({ provider: 'anthropic', input_tokens: 10, request_model: 'claude-haiku-4-5', kind: 'llm' })
  })

  it('converts nanosecond times exactly and computes duration', () => {
    expect(nsToSeconds('1790000000123456789')).toBe('1790000000.123456789')
    expect(nsToSeconds('5')).toBe('0000000000.000000005')
    const r = normalizeSpan(span({}), 'p', { prices })
    expect(r.duration_ms).toBe(250)
    // Exactly as BigInt subtraction gives it: a borrow across the second, 1 ns, no end time, under a second since the epoch.
    const cases: Array<[string, string]> = [
      ['1790000000999999999', '1790000003000000001'],
      ['1790000000000000000', '1790000000000000001'],
      ['1790000000123456789', '0'],
      ['5', '1000000007'],
      ['1790000000000000000', '1799000000123456789'],
    ]
    for (const [startNs, endNs] of cases) {
      const got = normalizeSpan(span({}, { startNs, endNs }), 'p', { prices })
      const end = endNs === '0' ? startNs : endNs
      expect(got.duration_ms, `${startNs} → ${endNs}`).toBe(Number(BigInt(end) - BigInt(startNs)) / 1e6)
      expect(got.end_time).toBe(nsToSeconds(end))
    }
  })

  it('negative or absurd token counts become zero; TTFT in seconds becomes ms', () => {
    const r = normalizeSpan(span({ 'gen_ai.usage.input_tokens': -5, 'gen_ai.usage.output_tokens': 'NaN', 'gen_ai.response.time_to_first_chunk': 0.25 }), 'p', { prices })
    expect(r).toMatchObject({ input_tokens: 0, output_tokens: 0, ttft_ms: 250 })
  })

  it('system instructions are folded into the input as a system message', () => {
    const r = normalizeSpan(
      span({
        'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: 'be brief' }]),
        'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }]),
      }),
      'p',
      { prices },
    )
    expect(JSON.parse(r.input)).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'be brief' }] },
      { role: 'user', parts: [{ type: 'text', content: 'hi' }] },
    ])
    // Stored once: moved into input, with a marker saying from where.
    expect(r.attributes['gen_ai.input.messages']).toBeUndefined()
    expect(r.attributes['spanlens.input.source']).toBe('gen_ai.input.messages,gen_ai.system_instructions')
  })
})

describe('SPANLENS_REDACT at ingest', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ SPANLENS_REDACT: 'on' })
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

describe('prepare: a request becomes its rows', () => {
  it('writes every row whole when the rows outgrow the first buffer, multibyte text included', () => {
    // ~2 KB per span is the first guess; these rows are several times that, in 1-4 byte UTF-8.
    const texts = Array.from({ length: 30 }, (_, i) => `${'é€😀a'.repeat(200 + i * 40)}\t\\n${i}`)
    const req = jsonRequest(texts.map((t) => ({ attributes: [{ key: 'gen_ai.input.messages', value: { stringValue: t } }] })))
    const ctx = { prices: PriceTable.load() }
    const prepared = prepare('json', Buffer.from(JSON.stringify(req)), 'acme', ctx)
    expect(prepared.rows).toBe(30)
    const expected = decodeJson(Buffer.from(JSON.stringify(req))).spans.map((s) => `${encodeRow(normalizeSpan(s, 'acme', ctx))}\n`).join('')
    expect(Buffer.from(prepared.payload as Uint8Array).toString('utf8')).toBe(expected)
    expect(prepared.payload?.byteLength).toBe(Buffer.byteLength(expected))
  })
})
