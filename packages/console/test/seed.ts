// Spans for the console tests, sent the way users send them: OTLP/JSON with the
// OpenTelemetry GenAI attributes, and scores through the query API.

type AttrValue = string | number | boolean
const attr = (key: string, v: AttrValue) => ({
  key,
  value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v },
})
const ns = (ms: number) => `${BigInt(Math.round(ms)) * 1_000_000n}`
const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0')

export const AGENT_TRACE = 'c0ffee00000000000000000000000001'
export const LLM_SPAN = 'c0ffee0000000002'
export const XSS = '<img src=x onerror="window.__xss=1">'
export const LONG_ANSWER = `Your order A-17 ships tomorrow. ${'It was packed and labelled at the warehouse. '.repeat(60)}`

interface SpanSpec {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  startMs: number
  durationMs: number
  error?: boolean
  attrs: Record<string, AttrValue>
  events?: Array<{ atMs: number; name: string; attrs: Record<string, AttrValue> }>
  links?: Array<{ traceId: string; spanId: string; attrs: Record<string, AttrValue> }>
}

/** The failing tool call's exception, as OpenTelemetry's recordException writes it; its message is markup that must show as text. */
export const EXCEPTION = { type: 'OrderLookupError', message: '<b>order A-17</b> not found', stack: 'OrderLookupError: order A-17 not found\n    at getOrder (tools.js:12:7)' }
/** What the failing tool call logged, as an app's logger bridged to OpenTelemetry sends it: the second with a severity number alone, and markup in its body. */
export const TOOL_LOGS = [
  { atMs: 5, severityNumber: 9, severityText: 'INFO', body: 'looking up order A-17', attrs: { 'order.id': 'A-17' } },
  { atMs: 260, severityNumber: 17, severityText: '', body: '<i>lookup failed</i>', attrs: {} },
]

/** The agent trace's record outside any span. */
export const TRACE_LOG = 'POST /support 200 in 3.1 s'

/** The trace the failing tool call links to. */
export const LINKED = { traceId: 'c0ffee000000000000000000000000aa', spanId: 'c0ffee00000000aa' }

function span(s: SpanSpec) {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
    name: s.name,
    kind: 3,
    startTimeUnixNano: ns(s.startMs),
    endTimeUnixNano: ns(s.startMs + s.durationMs),
    attributes: Object.entries(s.attrs).map(([k, v]) => attr(k, v)),
    status: s.error ? { code: 2, message: 'tool failed' } : { code: 1 },
    events: (s.events ?? []).map((e) => ({ timeUnixNano: ns(s.startMs + e.atMs), name: e.name, attributes: Object.entries(e.attrs).map(([k, v]) => attr(k, v)) })),
    links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: Object.entries(l.attrs).map(([k, v]) => attr(k, v)) })),
  }
}

function request(service: string, release: string, spans: SpanSpec[]) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', service), attr('service.version', release)] },
        scopeSpans: [{ scope: { name: 'console-test', version: '1.2.3', attributes: [attr('console.scope', 'yes')] }, spans: spans.map(span) }],
      },
    ],
  }
}

/** One agent trace with two LLM calls and a failing tool call, 10 minutes ago. */
function agentTrace(now: number) {
  const t0 = now - 10 * 60_000
  const root = 'c0ffee0000000001'
  return request('support', 'v2', [
    { traceId: AGENT_TRACE, spanId: root, name: 'support agent', startMs: t0, durationMs: 3000, attrs: { 'gen_ai.operation.name': 'invoke_agent', 'user.id': 'user-42', 'session.id': 'sess-7' } },
    {
      traceId: AGENT_TRACE,
      spanId: LLM_SPAN,
      parentSpanId: root,
      name: 'chat gpt-4o',
      startMs: t0 + 100,
      durationMs: 1200,
      attrs: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.response.model': 'gpt-4o-2024-08-06',
        'gen_ai.usage.input_tokens': 120,
        'gen_ai.usage.output_tokens': 45,
        'gen_ai.usage.cache_read.input_tokens': 64,
        'gen_ai.usage.cache_creation.input_tokens': 32,
        'gen_ai.response.time_to_first_chunk': 0.35,
        'gen_ai.response.finish_reasons': 'tool_calls',
        'gen_ai.input.messages': JSON.stringify([
          { role: 'system', parts: [{ type: 'text', content: 'You are a support agent.' }] },
          { role: 'user', parts: [{ type: 'text', content: `Where is my order A-17? ${XSS}` }] },
        ]),
        'gen_ai.output.messages': JSON.stringify([
          { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_order', arguments: { order_id: 'A-17' } }], finish_reason: 'tool_calls' },
        ]),
        'user.id': 'user-42',
      },
    },
    {
      traceId: AGENT_TRACE,
      spanId: 'c0ffee0000000003',
      parentSpanId: root,
      name: '<b>get_order</b>',
      startMs: t0 + 1400,
      durationMs: 300,
      error: true,
      attrs: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'get_order' },
      events: [
        { atMs: 250, name: 'exception', attrs: { 'exception.type': EXCEPTION.type, 'exception.message': EXCEPTION.message, 'exception.stacktrace': EXCEPTION.stack } },
        { atMs: 20, name: 'cache.miss', attrs: { 'cache.key': 'order:A-17' } },
      ],
      links: [{ traceId: LINKED.traceId, spanId: LINKED.spanId, attrs: { 'link.reason': 'retry of' } }],
    },
    {
      traceId: AGENT_TRACE,
      spanId: 'c0ffee0000000004',
      parentSpanId: root,
      name: 'chat gpt-4o',
      startMs: t0 + 1800,
      durationMs: 1000,
      attrs: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 200,
        'gen_ai.usage.output_tokens': 400,
        'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: LONG_ANSWER }], finish_reason: 'stop' }]),
      },
    },
  ])
}

export const REFUSAL = "I'm sorry, but I can't help with that."
/** Background traffic's sessions: user-<u> has sessions sess-<u>-0 and sess-<u>-1, eight traces each. */
export const sessionOf = (i: number) => `sess-${i % 4}-${Math.floor(i / 32)}`

/**
 * Background traffic over the last 20 hours: release v1 before 10 h ago (fast), v2 after
 * (slower), three models; four users with two sessions each, a refusal every 11th call
 * (i ≡ 5), the tag `vip` every 5th.
 */
function traffic(now: number, count: number) {
  const models = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4']
  const reqs = []
  for (let i = 0; i < count; i++) {
    const start = now - 20 * 3_600_000 + (i * 20 * 3_600_000) / count
    const release = start < now - 10 * 3_600_000 ? 'v1' : 'v2'
    const model = models[i % models.length]!
    reqs.push(
      request(i % 2 ? 'chat' : 'batch', release, [
        {
          traceId: hex(0xa000 + i, 16),
          spanId: hex(0xa000 + i, 8),
          name: `chat ${model}`,
          startMs: start,
          durationMs: (release === 'v1' ? 400 : 1400) + (i % 7) * 50,
          error: i % 9 === 0,
          attrs: {
            'gen_ai.operation.name': 'chat',
            'gen_ai.request.model': model,
            'gen_ai.usage.input_tokens': 50 + (i % 5) * 10,
            'gen_ai.usage.output_tokens': (release === 'v1' ? 30 : 90) + (i % 4) * 5,
            'user.id': `user-${i % 4}`,
            'session.id': sessionOf(i),
            ...(i % 5 === 0 ? { 'spanlens.tags': 'vip' } : {}),
            'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: `question ${i}` }] }]),
            'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: i % 11 === 5 ? REFUSAL : `answer ${i}` }], finish_reason: 'stop' }]),
          },
        },
      ]),
    )
  }
  return reqs
}

/** gen_ai.client.token.usage as an instrumentation exports it (delta histograms), one point per model and minute over the last 20 minutes. */
function tokenUsage(now: number) {
  const points = []
  for (let m = 20; m >= 1; m--) {
    for (const [model, tokens] of [['gpt-4o-mini', 400], ['claude-sonnet-4', 900]] as const) {
      const at = now - m * 60_000
      points.push({
        startTimeUnixNano: ns(at - 60_000),
        timeUnixNano: ns(at),
        attributes: [attr('gen_ai.operation.name', 'chat'), attr('gen_ai.request.model', model), attr('gen_ai.token.type', 'input')],
        count: '2',
        sum: tokens + m,
        explicitBounds: [256, 1024, 4096],
        bucketCounts: ['0', '2', '0', '0'],
      })
    }
  }
  return {
    resourceMetrics: [
      {
        resource: { attributes: [attr('service.name', 'support')] },
        scopeMetrics: [{ scope: { name: 'console-test' }, metrics: [{ name: 'gen_ai.client.token.usage', unit: '{token}', histogram: { aggregationTemporality: 1, dataPoints: points } }] }],
      },
    ],
  }
}

export async function seed(url: string, key: string, now = Date.now()): Promise<void> {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` }
  for (const body of [agentTrace(now), ...traffic(now, 64)]) {
    const res = await fetch(`${url}/v1/traces`, { method: 'POST', headers, body: JSON.stringify(body) })
    if (!res.ok) throw new Error(`seed: /v1/traces ${res.status} ${await res.text()}`)
  }
  const toolStart = now - 10 * 60_000 + 1400
  const logs = {
    resourceLogs: [
      {
        resource: { attributes: [attr('service.name', 'support')] },
        scopeLogs: [
          {
            scope: { name: 'app-logger' },
            logRecords: [
              ...TOOL_LOGS.map((l) => ({
                timeUnixNano: ns(toolStart + l.atMs),
                severityNumber: l.severityNumber,
                severityText: l.severityText,
                body: { stringValue: l.body },
                attributes: Object.entries(l.attrs).map(([k, v]) => attr(k, v)),
                traceId: AGENT_TRACE,
                spanId: 'c0ffee0000000003',
              })),
              // One of the trace's records that names no span: the request's access log line, after it ended.
              { timeUnixNano: ns(toolStart - 1400 + 3100), severityNumber: 9, severityText: 'INFO', body: { stringValue: TRACE_LOG }, traceId: AGENT_TRACE },
            ],
          },
        ],
      },
    ],
  }
  const logged = await fetch(`${url}/v1/logs`, { method: 'POST', headers, body: JSON.stringify(logs) })
  if (!logged.ok) throw new Error(`seed: /v1/logs ${logged.status} ${await logged.text()}`)
  const metrics = await fetch(`${url}/v1/metrics`, { method: 'POST', headers, body: JSON.stringify(tokenUsage(now)) })
  if (!metrics.ok) throw new Error(`seed: /v1/metrics ${metrics.status} ${await metrics.text()}`)
  for (const score of [
    { traceId: AGENT_TRACE, name: 'feedback', value: 1, comment: 'resolved' },
    { traceId: AGENT_TRACE, spanId: LLM_SPAN, name: 'relevance', value: 0.8, source: 'eval' },
  ]) {
    const res = await fetch(`${url}/api/v1/scores`, { method: 'POST', headers, body: JSON.stringify(score) })
    if (!res.ok) throw new Error(`seed: /api/v1/scores ${res.status} ${await res.text()}`)
  }
}

/** `n` characters without a space or a hyphen, as a base64 token, an OAuth subject or a hash is: nowhere to wrap. */
const unbroken = (prefix: string, n: number) => prefix + Array.from({ length: n - prefix.length }, (_, i) => 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'[(i * 7) % 36]).join('')

/** One LLM call whose every free-text field is a long unbroken string, as real apps send them. */
export const LONG = {
  traceId: 'f1de000000000000000000000000000a',
  name: unbroken('GET_/v1/files/', 600),
  userId: unbroken('oauth2|', 300),
  sessionId: unbroken('sess_', 300),
  model: unbroken('ft:gpt-4o:', 200),
  attrKey: unbroken('app.', 2000),
  attrValue: unbroken('https://example.com/cb?token=', 2000),
}

export async function seedLongStrings(url: string, key: string, now = Date.now()): Promise<void> {
  const body = request('wide', 'v1', [
    {
      traceId: LONG.traceId,
      spanId: 'f1de00000000000b',
      name: LONG.name,
      startMs: now - 5 * 60_000,
      durationMs: 800,
      attrs: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': LONG.model,
        'gen_ai.usage.input_tokens': 10,
        'gen_ai.usage.output_tokens': 20,
        'user.id': LONG.userId,
        'session.id': LONG.sessionId,
        [LONG.attrKey]: LONG.attrValue,
      },
      // An exception and a link of the same unbroken strings: their tables, headline and stack trace wrap or scroll in their own box too.
      events: [{ atMs: 10, name: 'exception', attrs: { 'exception.type': LONG.model, 'exception.message': LONG.attrValue, 'exception.stacktrace': LONG.attrValue, [LONG.attrKey]: LONG.attrValue } }],
      links: [{ traceId: 'f1de00000000000000000000000000ff', spanId: 'f1de0000000000ff', attrs: { [LONG.attrKey]: LONG.attrValue } }],
    },
  ])
  const res = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) })
  if (!res.ok) throw new Error(`seed: /v1/traces ${res.status} ${await res.text()}`)
}
