/**
 * What every SDK benchmark sends and gets back: a support bot's chat request
 * (a ~300-character system prompt, a ~250-character user message) and the
 * replies a provider gives to it, sized like real ones:
 *  - plain: a 1.1 KB chat.completion with a 560-character answer;
 *  - stream: the same answer in 95 chunks (role, 92 content pieces, finish,
 *    and the `stream_options.include_usage` usage chunk);
 *  - tools: an agent turn (two tool definitions, an earlier tool call and its
 *    result in the history) answered with a tool call.
 */

const SYSTEM =
  'You are the support assistant of Northwind Outfitters, an online shop for hiking and camping gear. ' +
  'Answer in a friendly, concise tone. Use the order tools to look up orders before answering questions about them. ' +
  'Never promise refunds above 200 EUR without a human agent. If unsure, say so and offer to hand over.'

const USER =
  'Hi, I ordered the Alpine 2 tent and a pair of trekking poles last Tuesday (order A-1059), but the tracking ' +
  'page has said "label created" for five days now. I leave for a trip on Saturday. Can you tell me where it is ' +
  'and whether it will arrive in time? My email is ada@example.com.'

export const ANSWER =
  'Thanks for reaching out, and sorry for the wait! I looked up order A-1059: both the Alpine 2 tent and the ' +
  'trekking poles left our warehouse in Lyon yesterday evening. The carrier only scans parcels at the first hub, ' +
  'which is why tracking still shows "label created". The parcel is now in transit with an estimated delivery on ' +
  'Thursday, two days before your trip. I will keep an eye on it, and if it has not arrived by Friday noon, reply ' +
  'here and I will arrange an express replacement at no cost to you. Is there anything else I can help you with today, Ada?'

const MODEL = 'gpt-4o-mini'
const RESPONSE_MODEL = 'gpt-4o-mini-2024-07-18'

export type Scenario = 'plain' | 'stream' | 'tools'
export const SCENARIOS: Scenario[] = ['plain', 'stream', 'tools']

const MESSAGES = [
  { role: 'system' as const, content: SYSTEM },
  { role: 'user' as const, content: USER },
]

const TOOLS = [
  {
    type: 'function' as const,
    function: {
      name: 'get_order_status',
      description: 'Current status, carrier and estimated delivery date of an order.',
      parameters: { type: 'object', properties: { order_id: { type: 'string', description: 'Order number, e.g. A-1059' } }, required: ['order_id'] },
    },
  },
  {
    type: 'function' as const,
    function: {
      name: 'create_replacement',
      description: 'Ships a replacement for a delayed order by express delivery.',
      parameters: {
        type: 'object',
        properties: { order_id: { type: 'string' }, reason: { type: 'string', enum: ['delayed', 'damaged', 'lost'] }, express: { type: 'boolean' } },
        required: ['order_id', 'reason'],
      },
    },
  },
]

const TOOL_RESULT = JSON.stringify({
  order_id: 'A-1059',
  status: 'in_transit',
  carrier: 'Colissimo',
  shipped_at: '2026-12-02T18:40:00Z',
  estimated_delivery: '2026-12-05',
  items: [{ sku: 'TENT-ALP2', name: 'Alpine 2 tent', qty: 1 }, { sku: 'POLE-TRK', name: 'Trekking poles (pair)', qty: 1 }],
})

/** A fresh request for a scenario (apps build one per call; the wrappers read it). */
export function request(scenario: Scenario): Record<string, unknown> {
  const messages = [...MESSAGES.map((m) => ({ ...m }))]
  if (scenario === 'plain') return { model: MODEL, temperature: 0.2, max_tokens: 400, messages }
  if (scenario === 'stream') return { model: MODEL, temperature: 0.2, max_tokens: 400, messages, stream: true, stream_options: { include_usage: true } }
  return {
    model: MODEL,
    temperature: 0,
    tools: TOOLS,
    messages: [
      ...messages,
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_lookup_1', type: 'function', function: { name: 'get_order_status', arguments: '{"order_id":"A-1059"}' } }] },
      { role: 'tool', tool_call_id: 'call_lookup_1', content: TOOL_RESULT },
    ],
  }
}

const usage = {
  prompt_tokens: 148,
  completion_tokens: 121,
  total_tokens: 269,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
}
const head = { id: 'chatcmpl-BxGk2Jq7vYp4mNf8Rr3LzT1wQe9Hs', created: 1764866400, model: RESPONSE_MODEL }

/** The plain reply, ~1.1 KB. */
export const COMPLETION = JSON.stringify({
  ...head,
  object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content: ANSWER, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
  usage,
  service_tier: 'default',
  system_fingerprint: 'fp_560af6e559',
})

export const TOOL_COMPLETION = JSON.stringify({
  ...head,
  object: 'chat.completion',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_repl_2', type: 'function', function: { name: 'create_replacement', arguments: '{"order_id":"A-1059","reason":"delayed","express":true}' } }],
        refusal: null,
        annotations: [],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    },
  ],
  usage,
  service_tier: 'default',
  system_fingerprint: 'fp_560af6e559',
})

/** The streamed reply as one SSE body: 95 chunks, then [DONE]. */
export const STREAM_BODY = (() => {
  const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ ...head, object: 'chat.completion.chunk', service_tier: 'default', system_fingerprint: 'fp_560af6e559', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null, ...extra })}\n\n`
  const pieces: string[] = []
  for (let i = 0; i < 92; i++) pieces.push(ANSWER.slice(Math.round((i * ANSWER.length) / 92), Math.round(((i + 1) * ANSWER.length) / 92)))
  const events = [chunk({ role: 'assistant', content: '', refusal: null }, null), ...pieces.map((p) => chunk({ content: p }, null)), chunk({}, 'stop')]
  events.push(`data: ${JSON.stringify({ ...head, object: 'chat.completion.chunk', service_tier: 'default', system_fingerprint: 'fp_560af6e559', choices: [], usage })}\n\n`)
  if (events.length !== 95) throw new Error(`stream fixture has ${events.length} chunks, not 95`)
  return `${events.join('')}data: [DONE]\n\n`
})()

/** Kept for the in-process tools (overhead.ts, profile.ts, bisect.ts): the plain request. */
export const PARAMS = request('plain') as { model: string; messages: { role: 'system' | 'user'; content: string }[] }

/** Answers each request with its scenario's reply without any I/O (ab.ts, alloc.ts): the client's and the SDK's own work. */
export const scenarioFetch = (scenario: Scenario): typeof fetch => async () =>
  scenario === 'stream'
    ? new Response(STREAM_BODY, { status: 200, headers: { 'content-type': 'text/event-stream' } })
    : new Response(scenario === 'tools' ? TOOL_COMPLETION : COMPLETION, { status: 200, headers: { 'content-type': 'application/json' } })

/** An OTLP endpoint in this process that reads every export and answers 200: where the in-process tools' SDK exports. */
export async function startSink(): Promise<{ url: string; close: () => void }> {
  const { createServer } = await import('node:http')
  const sink = createServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(200).end())
  })
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()))
  return { url: `http://127.0.0.1:${(sink.address() as { port: number }).port}`, close: () => sink.close() }
}

/** Answers the plain request without any I/O: isolates the client and the wrapper from network noise. */
export const inProcessFetch: typeof fetch = async () =>
  new Response(COMPLETION, { status: 200, headers: { 'content-type': 'application/json' } })

/**
 * A local OpenAI-compatible server in a child process, answering each request
 * with the canned reply of its scenario (stream: true → STREAM_BODY, tools →
 * the tool call, else COMPLETION), as fast as it can: a provider is another
 * process in real life, and its work stays out of the app's event loop and CPU.
 * `keepAliveMs`: how long an idle connection stays open (Node's default, 5 s;
 * under valgrind a client can pause longer and then race the server's close).
 */
export async function startLlmProcess(keepAliveMs = 5000): Promise<{ url: string; close: () => void }> {
  const { spawn } = await import('node:child_process')
  const code = `const plain = Buffer.from(${JSON.stringify(COMPLETION)}), tools = Buffer.from(${JSON.stringify(TOOL_COMPLETION)}), stream = Buffer.from(${JSON.stringify(STREAM_BODY)});
require('node:http').createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString()
    if (body.includes('"stream":true')) return res.writeHead(200, { 'content-type': 'text/event-stream' }).end(stream)
    res.writeHead(200, { 'content-type': 'application/json' }).end(body.includes('"tools":') ? tools : plain)
  })
}).once('listening', function () { this.keepAliveTimeout = ${keepAliveMs} }).listen(0, '127.0.0.1', function () { process.stdout.write(String(this.address().port) + '\\n') })`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<string>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (c) => reject(new Error(`LLM server exited with ${c}`)))
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()))
  })
  return { url: `http://127.0.0.1:${port}`, close: () => child.kill() }
}

/**
 * Yields to the event loop for three turns, as an app does when it goes back
 * to its own I/O between calls. The SDK records ended calls and encodes their
 * spans on a 20 ms timer for many calls at once (init.ts), so that work runs in
 * whichever call or yield is under way when the timer fires; a measure that
 * must hold all of it ends with flush().
 */
export const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}
