import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { getStats, init, observe, score, shutdown, span, withContext, wrapAnthropic, wrapOpenAI } from '@spanlens/sdk'
import { backdated, backdatingProvider } from './backdate.js'
import { SCRIPT_HEADER, scriptedFetch, type Script } from './scripted-provider.js'

/**
 * The demo workload. Two releases of two services run one after the other:
 *
 * - support-bot (OpenAI): each ticket is a chain — knowledge-base retrieval
 *   (embeddings), a chat call that may ask for the lookup_order tool, the tool,
 *   and the answer (streamed for a third of tickets) — then the user's
 *   thumbs-up or down as a score. Users are on a free, pro or enterprise plan
 *   (`withContext` metadata → attribute `spanlens.metadata.plan`).
 * - summarizer (Anthropic): one messages call per document.
 *
 * Traffic is dated over the past `hours` (default 48): v1 in the first half,
 * v2 in the second, and the last fifth of v2 in the final 10 minutes — the
 * "live" traffic the short SLO windows (5m, 30m) look at.
 *
 * What is true in the data, on purpose, so the reports have something to find:
 * - v2 moved most traffic from gpt-4o-mini to gpt-4.1-mini and answers at about
 *   twice the length: drift between the releases (model, output tokens, latency);
 * - free-plan users are refused (an "I'm sorry, but I can't help with that"
 *   answer) in 40% of tickets, other plans in 2%: a refusal-rate disparity;
 * - in v2, 40% of support-bot LLM calls take 1.1–1.5 s against a 1 s latency
 *   SLO, and provider errors and timeouts rise from 2% to 9%: both support-bot
 *   SLOs burn their budget fast enough to page.
 */
export interface DemoOptions {
  endpoint: string
  apiKey?: string | undefined
  /** Support tickets per release (summaries are a third of that). */
  tickets?: number
  concurrency?: number
  /** History covered by the timestamps, in hours (at least 1). Default 48. */
  hours?: number
  seed?: number
  log?: (line: string) => void
}

export interface DemoSummary {
  releases: string[]
  tickets: number
  refused: number
  failed: number
  slow: number
  summaries: number
  spansDropped: number
  /** First and last planned start times (ISO). */
  from: string
  to: string
}

export const RELEASES = ['v1', 'v2'] as const
export const PLANS = ['free', 'pro', 'enterprise'] as const
export const SLO_LATENCY_MS = 1000
/** The final stretch of v2 traffic, dated in the last 10 minutes. */
const LIVE_MS = 10 * 60_000
const LIVE_SHARE = 0.2

const REFUSAL = "I'm sorry, but I can't help with that request. Please contact a human agent."
const WORDS = 'your order shipped yesterday and the tracking link is in your account refunds take five business days we can also replace the item'.split(' ')

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const { endpoint, apiKey, tickets = 300, concurrency = 32, hours = 48, log = () => undefined } = options
  if (!(hours >= 1)) throw new Error('hours must be at least 1')
  const rand = rng(options.seed ?? 7)
  const now = Date.now()
  const when = schedule(now, hours * 3_600_000)
  const summary: DemoSummary = {
    releases: [...RELEASES], tickets: 0, refused: 0, failed: 0, slow: 0, summaries: 0, spansDropped: 0,
    from: new Date(when(0, 0, 1)).toISOString(), to: new Date(now).toISOString(),
  }
  for (const [r, release] of RELEASES.entries()) {
    const common = { endpoint, apiKey, environment: 'demo', release, flushOnExit: false, flushIntervalMs: 200, maxQueueSize: 100_000, maxBatchSize: 2000 }

    const supportProvider = backdatingProvider()
    init({ ...common, serviceName: 'support-bot', tracerProvider: supportProvider })
    const openai = wrapOpenAI(new OpenAI({ apiKey: 'sk-demo', baseURL: 'https://api.openai.com/v1', fetch: scriptedFetch, maxRetries: 0 }))
    await pool(tickets, concurrency, async (i) => {
      const outcome = await backdated(when(r, i, tickets), () => supportTicket(openai, release, i, rand))
      summary.tickets++
      if (outcome === 'refused') summary.refused++
      if (outcome === 'failed') summary.failed++
      if (outcome === 'slow') summary.slow++
    })
    summary.spansDropped += await shutdownAndCount()
    await supportProvider.shutdown()
    log(`${release}: support-bot sent ${tickets} tickets`)

    const summarizerProvider = backdatingProvider()
    init({ ...common, serviceName: 'summarizer', tracerProvider: summarizerProvider })
    const anthropic = wrapAnthropic(new Anthropic({ apiKey: 'sk-ant-demo', baseURL: 'https://api.anthropic.com', fetch: scriptedFetch, maxRetries: 0 }))
    const documents = Math.ceil(tickets / 3)
    await pool(documents, concurrency, async (i) => {
      await backdated(when(r, i, documents), () => summarize(anthropic, release, i, rand)).catch(() => undefined)
      summary.summaries++
    })
    summary.spansDropped += await shutdownAndCount()
    await summarizerProvider.shutdown()
    log(`${release}: summarizer sent ${documents} documents`)
  }
  return summary
}

type Outcome = 'ok' | 'refused' | 'failed' | 'slow'

async function supportTicket(openai: OpenAI, release: string, i: number, rand: () => number): Promise<Outcome> {
  const plan = PLANS[i % PLANS.length] as (typeof PLANS)[number]
  const userId = `${plan}-user-${i % 40}`
  const v2 = release === 'v2'
  const model = v2 && rand() < 0.7 ? 'gpt-4.1-mini' : 'gpt-4o-mini'
  // The planted effects that small runs must show too come from the ticket number,
  // not the random stream: exactly 40% of free tickets and 2% of the others are refused,
  // and answers have the same prompt sizes in both releases.
  const nth = Math.floor(i / PLANS.length)
  const refused = plan === 'free' ? nth % 5 < 2 : nth % 50 === 1
  const failure = rand() < (v2 ? 0.09 : 0.02) ? (rand() < 0.35 ? 'timeout' : 'error') : undefined
  const slowCall = () => v2 && rand() < 0.4
  let slow = false
  const delay = () => {
    if (slowCall()) {
      slow = true
      return 1100 + Math.round(rand() * 400)
    }
    return 40 + Math.round(rand() * (v2 ? 260 : 210))
  }
  const answerTokens = () => (v2 ? 160 + Math.round(rand() * 160) : 80 + Math.round(rand() * 80))
  const question = `Where is my order ${1000 + i}? ${words(rand, 12)}`

  const searchKb = observe('search_kb', async (q: string) => {
    await openai.embeddings.create({ model: 'text-embedding-3-small', input: q })
    return ['kb-shipping', 'kb-refunds']
  }, { kind: 'retrieval' })
  const lookupOrder = observe('lookup_order', async (orderId: string) => {
    await sleep(5 + rand() * 20)
    return { orderId, status: 'shipped', carrier: 'DHL' }
  }, { kind: 'tool' })

  const call = (script: Script, messages: OpenAI.Chat.ChatCompletionMessageParam[], stream: boolean) => {
    const requestOptions = { headers: { [SCRIPT_HEADER]: JSON.stringify(failure === 'error' ? { ...script, status: 500 } : failure === 'timeout' ? { ...script, delayMs: 1500 } : script) }, ...(failure === 'timeout' ? { timeout: 400 } : {}) }
    const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'lookup_order', parameters: { type: 'object', properties: { orderId: { type: 'string' } } } } }]
    if (!stream) return openai.chat.completions.create({ model, messages, tools, temperature: 0.2 }, requestOptions).then((r) => r.choices[0]?.message)
    return openai.chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } }, requestOptions).then(async (s) => {
      let text = ''
      for await (const chunk of s) text += chunk.choices[0]?.delta?.content ?? ''
      return { role: 'assistant' as const, content: text, refusal: null }
    })
  }

  try {
    const traceId = await withContext({ userId, sessionId: `${userId}-s${i % 7}`, metadata: { plan }, tags: ['support'] }, () =>
      span('handle_ticket', async (root) => {
        root.setInput(question)
        const sources = await searchKb(question)
        const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
          { role: 'system', content: `You are a support agent. Sources: ${sources.join(', ')}` },
          { role: 'user', content: question },
        ]
        if (refused) {
          const answer = await call({ delayMs: delay(), text: REFUSAL, inputTokens: 120, outputTokens: 18 }, messages, false)
          root.setOutput(answer?.content ?? '')
          return root.traceId
        }
        if (i % 2 === 0) {
          const first = await call({ delayMs: delay(), text: '', inputTokens: 140, outputTokens: 22, toolCall: { name: 'lookup_order', arguments: JSON.stringify({ orderId: String(1000 + i) }) } }, messages, false)
          if (first) messages.push(first as OpenAI.Chat.ChatCompletionMessageParam)
          const result = await lookupOrder(String(1000 + i))
          const callId = first && 'tool_calls' in first ? first.tool_calls?.[0]?.id : undefined
          messages.push({ role: 'tool', tool_call_id: callId ?? 'call', content: JSON.stringify(result) })
        }
        const n = answerTokens()
        // A third of answers stream (every plan alike), 1 ms per token after the first (the TTFT is the delay).
        const answer = await call({ delayMs: delay(), streamMs: n, text: words(rand, Math.round(n * 0.75)), inputTokens: 180 + ((i * 37) % 61), outputTokens: n }, messages, i % 9 < 3)
        root.setOutput(answer?.content ?? '')
        return root.traceId
      }, { kind: 'chain', captureOutput: false }),
    )
    // Users mostly like fast answers and dislike refusals and slow ones.
    const liked = refused ? rand() < 0.1 : slow ? rand() < 0.4 : rand() < 0.85
    await score({ traceId, name: 'feedback', value: liked ? 1 : 0, source: 'user' })
    return refused ? 'refused' : slow ? 'slow' : 'ok'
  } catch {
    // The provider failed or timed out: the span holds the error; the app moves on.
    return 'failed'
  }
}

async function summarize(anthropic: Anthropic, release: string, i: number, rand: () => number): Promise<void> {
  const model = i % 4 === 0 ? 'claude-opus-4-5' : 'claude-haiku-4-5'
  const outputTokens = release === 'v2' ? 90 + Math.round(rand() * 60) : 60 + Math.round(rand() * 40)
  const script: Script = { delayMs: 60 + Math.round(rand() * 200), text: words(rand, Math.round(outputTokens * 0.75)), inputTokens: 600 + Math.round(rand() * 400), outputTokens }
  if (rand() < 0.02) script.status = 429
  await withContext({ userId: `analyst-${i % 5}`, tags: ['batch'] }, () =>
    anthropic.messages.create(
      { model, max_tokens: 512, system: 'Summarize the document in three sentences.', messages: [{ role: 'user', content: `Document ${i}: ${words(rand, 80)}` }] },
      { headers: { [SCRIPT_HEADER]: JSON.stringify(script) } },
    ),
  )
}

/**
 * When job i of n of release r started (epoch ms): v1 evenly over the first
 * half of the history, v2 over the second half, with its last fifth in the
 * final 10 minutes before `now`.
 */
function schedule(now: number, historyMs: number): (r: number, i: number, n: number) => number {
  const half = historyMs / 2
  return (r, i, n) => {
    if (r === 0) return now - historyMs + (half * i) / n
    const live = Math.max(1, Math.round(n * LIVE_SHARE))
    const past = n - live
    if (i < past) return now - half + ((half - LIVE_MS) * i) / past
    return now - LIVE_MS + (LIVE_MS * (i - past + 1)) / live
  }
}

/** Flushes and stops the SDK; returns the spans it had to drop (init() resets the count). */
async function shutdownAndCount(): Promise<number> {
  await shutdown()
  return getStats().spansDropped
}

/** Runs `count` jobs with at most `limit` at once. */
async function pool(count: number, limit: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < count) await job(next++)
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker))
}

function words(rand: () => number, n: number): string {
  return Array.from({ length: Math.max(1, n) }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ')
}

/** A small seeded generator (mulberry32): the same sequence of draws for a seed (which call gets which draw depends on timing). */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
