import { describe, expect, it, vi } from 'vitest'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import OpenAI from 'openai'
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import { flush, getStats, score, shutdown, span, wrapOpenAI } from '../src/index.js'
import { useHarness } from './helpers/harness.js'
import { captureLogger } from './helpers/logger.js'

const h = useHarness()

describe('export', () => {
  it('keeps the app working with the endpoint down: bounded queue, drops counted, fast calls', async () => {
    const logger = captureLogger()
    h.start({ endpoint: 'http://127.0.0.1:1', maxQueueSize: 10, maxBatchSize: 5, maxConcurrentExports: 2, maxRetries: 1, logger })
    const ai = wrapOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL: `${h.llm.url}/v1`, maxRetries: 0 }))
    for (let i = 0; i < 100; i++) span(`work-${i}`, () => i)
    const r = await ai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'still works' }] })
    expect(r.choices[0]?.message.content).toBe('Hello from the fake model!')
    // The LLM span is built a little after the call, off its path, with the calls that ended meanwhile (llm-span.ts).
    await vi.waitFor(() => expect(getStats().spansQueued).toBe(101), { timeout: 1000, interval: 5 })
    const stats = getStats()
    expect(stats.spansQueued).toBe(101)
    expect(stats.queued).toBeLessThanOrEqual(10)
    // Held at most: the queue, plus one batch per export in flight (retrying).
    expect(stats.spansDropped).toBeGreaterThanOrEqual(101 - 10 - 2 * 5)
    const t0 = Date.now()
    expect(await flush(300)).toBe(false)
    expect(Date.now() - t0).toBeLessThan(1000)
    await vi.waitFor(() => expect(logger.lines.some((l) => l.includes('export to http://127.0.0.1:1/v1/traces failed'))).toBe(true), {
      timeout: 3000,
    })
    expect(getStats().exportFailures).toBeGreaterThan(0)
  })

  it('keeps at most 64 MiB of spans queued, however large each is, and requests under 8 MiB unless one span is larger', async () => {
    h.start({ endpoint: 'http://127.0.0.1:9', maxRetries: 0, logger: captureLogger() })
    const doc = 'd'.repeat(1024 * 1024)
    for (let i = 0; i < 150; i++) span('rag', (s) => s.setAttribute('app.document', doc))
    await new Promise((r) => setImmediate(r))
    const { queued, spansDropped } = getStats()
    expect(queued).toBeLessThanOrEqual(64)
    expect(spansDropped).toBeGreaterThanOrEqual(150 - 64 - 4 * 8)
    await shutdown()

    h.start()
    // Nine values of 1 MiB, the most one value may be (value-bounds.ts).
    span('huge', (s) => {
      for (let k = 0; k < 9; k++) s.setAttribute(`app.document.${k}`, doc)
    })
    for (let i = 0; i < 20; i++) span('rag', (s) => s.setAttribute('app.document', doc))
    expect(await flush()).toBe(true)
    expect(h.receiver.spans).toHaveLength(21)
    const sizes = h.receiver.requests.map((r) => Number(r.headers['content-length']))
    expect(sizes.filter((n) => n > 8 * 1024 * 1024)).toHaveLength(1)
    expect(sizes.length).toBeGreaterThanOrEqual(4)
  })

  it('says an outage once, not a line per dropped batch, and counts every dropped span', async () => {
    const logger = captureLogger()
    h.start({ endpoint: 'http://127.0.0.1:1', maxBatchSize: 7, maxRetries: 0, logger })
    // Batches of different sizes fail one after another: their lines differ in the count they carry.
    for (let round = 1; round <= 4; round++) {
      for (let i = 0; i < round * 5; i++) span(`down-${round}-${i}`, () => i)
      await flush(2000)
    }
    expect(getStats().spansDropped).toBe(50)
    const said = logger.lines.filter((l) => l.includes('export to http://127.0.0.1:1/v1/traces failed'))
    expect(said).toHaveLength(1)
    expect(said[0]).toMatch(/ECONNREFUSED.*dropped \d+ spans \(\d+ since init, see getStats\(\)\)/)
  })

  it('keeps up with a burst against a slow collector by exporting concurrently, never more than the limit at once', async () => {
    h.start({ maxQueueSize: 4096, maxBatchSize: 1000, maxConcurrentExports: 4, flushIntervalMs: 1000 })
    h.receiver.delayMs = 150
    // ~16k spans/s for 1.2 s against 150 ms replies: one 1000-span request at a time
    // carries ~6.7k spans/s and the 4096-span queue overflows; four carry ~27k spans/s.
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 1000; i++) span(`burst-${round}-${i}`, () => i)
      await new Promise((r) => setTimeout(r, 60))
    }
    expect(await flush(20_000)).toBe(true)
    expect(getStats()).toMatchObject({ spansQueued: 20_000, spansExported: 20_000, spansDropped: 0 })
    expect(h.receiver.spans).toHaveLength(20_000)
    expect(h.receiver.maxConcurrent).toBeGreaterThan(1)
    expect(h.receiver.maxConcurrent).toBeLessThanOrEqual(4)
  })

  it('sends a partial batch on the timer, not as soon as a request returns', async () => {
    h.start({ maxBatchSize: 10, maxConcurrentExports: 4, flushIntervalMs: 60_000 })
    h.receiver.delayMs = 50
    for (let i = 0; i < 10; i++) span(`full-${i}`, () => i) // a full batch leaves at once
    // Trickling spans while it is on the wire: re-sending whatever queued each time a
    // request returned made one HTTP request (and gzip) per handful of spans.
    for (let i = 0; i < 6; i++) {
      span(`trickle-${i}`, () => i)
      await new Promise((r) => setTimeout(r, 30))
    }
    expect(h.receiver.requests).toHaveLength(1)
    expect(getStats().queued).toBe(6)
    expect(await flush(5000)).toBe(true)
    expect(h.receiver.requests).toHaveLength(2)
    expect(h.receiver.spans).toHaveLength(16)
  })

  it('sends gzip bodies when compression is gzip, plain protobuf to a loopback endpoint by default', async () => {
    for (const compression of [undefined, 'gzip'] as const) {
      h.start({ compression })
      span(`compressed-${compression ?? 'default'}`, () => 1)
      expect(await flush(2000)).toBe(true)
      const req = h.receiver.requests.at(-1)
      expect(req?.headers['content-encoding']).toBe(compression)
      expect(h.receiver.spans.at(-1)?.name).toBe(`compressed-${compression ?? 'default'}`)
      await shutdown()
    }
  })

  it('rejects a bad maxConcurrentExports at init', () => {
    expect(() => h.start({ maxConcurrentExports: 0 })).toThrow(/maxConcurrentExports/)
  })

  it('retries 503 honouring Retry-After, then delivers', async () => {
    h.start()
    h.receiver.script.push({ status: 503, headers: { 'retry-after': '1' } })
    span('retried', () => 1)
    expect(await flush(5000)).toBe(true)
    expect(h.receiver.requests).toHaveLength(2)
    const gap = h.receiver.requests[1]!.at - h.receiver.requests[0]!.at
    expect(gap).toBeGreaterThanOrEqual(900)
    expect(h.receiver.spans.map((s) => s.name)).toEqual(['retried'])
    expect(getStats()).toMatchObject({ exportRetries: 1, spansExported: 1, spansDropped: 0 })
  })

  it('says nothing of a failure a retry gets past', async () => {
    const logger = captureLogger()
    h.start({ logger })
    h.receiver.script.push({ status: 503, headers: { 'retry-after': '0' } })
    span('retried', () => 1)
    expect(await flush(2000)).toBe(true)
    await shutdown()
    expect(logger.lines).toEqual([])
  })

  it('retries a batch with its own bytes while later batches are encoded and sent meanwhile', async () => {
    h.start({ maxBatchSize: 5, maxConcurrentExports: 2, flushIntervalMs: 60_000 })
    h.receiver.script.push({ status: 503, headers: { 'retry-after': '1' } })
    for (let i = 0; i < 5; i++) span(`first-${i}`, () => i)
    await vi.waitFor(() => expect(h.receiver.requests).toHaveLength(1), { timeout: 2000, interval: 5 })
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5; i++) span(`later-${round}-${i}`, () => i)
      await vi.waitFor(() => expect(h.receiver.requests).toHaveLength(2 + round), { timeout: 2000, interval: 5 })
    }
    expect(await flush(5000)).toBe(true)
    const names = h.receiver.spans.map((s) => s.name).sort()
    expect(names).toHaveLength(20)
    expect(new Set(names).size).toBe(20)
    expect(names.filter((n) => n.startsWith('first-'))).toHaveLength(5)
  })

  it('retries 429 with backoff when no Retry-After is given', async () => {
    h.start()
    h.receiver.script.push({ status: 429 }, { status: 502 })
    span('backoff', () => 1)
    expect(await flush(5000)).toBe(true)
    expect(h.receiver.requests).toHaveLength(3)
    expect(getStats().exportRetries).toBe(2)
  })

  it('gives up on other 4xx at once with one log line', async () => {
    const logger = captureLogger()
    h.start({ logger })
    h.receiver.script.push({ status: 401 })
    span('rejected', () => 1)
    expect(await flush(2000)).toBe(false)
    expect(h.receiver.requests).toHaveLength(1)
    expect(getStats()).toMatchObject({ spansDropped: 1, exportRetries: 0, exportFailures: 1 })
    expect(logger.lines).toHaveLength(1)
    expect(logger.lines[0]).toContain('HTTP 401')
    expect(logger.lines[0]).not.toContain('sl_test_key')
  })

  it('sends a request refused as too large (413) again in halves, so that only the span refused alone is lost, counted and said once', async () => {
    const logger = captureLogger()
    h.start({ logger })
    // [a b c d] refused; [a b] accepted; [c d] refused; [c] accepted; [d] refused. d is 80 KB: a refused
    // request holding it is over the 64 KiB under which a refusal is the endpoint's, not a span's.
    h.receiver.script.push({ status: 413 }, { status: 200 }, { status: 413 }, { status: 200 }, { status: 413 })
    for (const name of ['a', 'b', 'c']) span(name, () => 1)
    span('d', (s) => s.setAttribute('app.doc', 'x'.repeat(80_000)))
    expect(await flush(2000)).toBe(false)
    expect(h.receiver.spans.map((s) => s.name)).toEqual(['a', 'b', 'c'])
    expect(h.receiver.requests).toHaveLength(5)
    expect(getStats()).toMatchObject({ spansQueued: 4, spansExported: 3, spansDropped: 1, spansTooLarge: 1, exportRetries: 0 })
    expect(logger.lines).toHaveLength(1)
    expect(logger.lines[0]).toMatch(/refused a span of \d+ KiB encoded as too large \(HTTP 413\); dropped it alone/)
  })

  it('drops a small request refused as too large whole, in one request: a limit that low is the endpoint refusing everything', async () => {
    const logger = captureLogger()
    h.start({ logger })
    // A proxy answering 413 to everything: halving a 512-span batch down to single spans cost 1,023 requests.
    h.receiver.script.push({ status: 413 })
    for (const name of ['a', 'b', 'c', 'd']) span(name, () => 1)
    expect(await flush(2000)).toBe(false)
    expect(h.receiver.requests).toHaveLength(1)
    expect(getStats()).toMatchObject({ spansQueued: 4, spansExported: 0, spansDropped: 4, spansTooLarge: 0 })
    expect(logger.lines).toHaveLength(1)
    expect(logger.lines[0]).toMatch(/refused a request of \d+ KiB as too large \(HTTP 413\): a limit that low is the endpoint's, not a span's; dropped its 4 spans/)
  })

  it('adds up when it stops while a request refused as too large is sent in parts: the parts sent count as exported, the rest dropped', async () => {
    h.start({ exportTimeoutMs: 500, logger: captureLogger() })
    // Each reply waits 200 ms: [a b c d] refused at ~200, [a b] accepted at ~400, [c d] still in flight when shutdown's flush gives up.
    h.receiver.delayMs = 200
    h.receiver.script.push({ status: 413 }, { status: 200 })
    for (const name of ['a', 'b', 'c']) span(name, () => 1)
    span('d', (s) => s.setAttribute('app.doc', 'x'.repeat(80_000)))
    await shutdown()
    const stats = getStats()
    expect(stats.spansQueued).toBe(4)
    expect(stats.spansExported + stats.spansDropped).toBe(4)
    expect(stats.spansExported).toBe(h.receiver.spans.length)
    expect(h.receiver.requests.length).toBeGreaterThanOrEqual(2)
  })

  it('resolves flush() false when the server refused spans or retries ran out, true once it accepts them all', async () => {
    h.start({ maxRetries: 1, logger: captureLogger() })
    h.receiver.script.push({ status: 500 })
    span('refused', () => 1)
    expect(await flush(2000)).toBe(false)
    h.receiver.script.push({ status: 503, headers: { 'retry-after': '0' } }, { status: 503, headers: { 'retry-after': '0' } })
    span('given up', () => 1)
    expect(await flush(2000)).toBe(false)
    span('accepted', () => 1)
    expect(await flush(2000)).toBe(true)
    expect(getStats()).toMatchObject({ spansQueued: 3, spansDropped: 2, spansExported: 1 })
  })

  it('adds up after shutdown: what did not leave in time, and spans an app provider hands it afterwards, are queued and dropped', async () => {
    // An sdk-trace-base 1.x provider: the processor is added with addSpanProcessor and cannot be removed.
    const processors: { onStart(s: unknown, c: unknown): void; onEnd(s: unknown): void }[] = []
    const tracer = new BasicTracerProvider().getTracer('app')
    const provider = { getTracer: () => tracer, addSpanProcessor: (p: (typeof processors)[number]) => processors.push(p) }
    h.start({ tracerProvider: provider as never, exportTimeoutMs: 200, logger: captureLogger() })
    h.receiver.delayMs = 1000
    const end = (name: string) => {
      const s = tracer.startSpan(name)
      s.end()
      for (const p of processors) p.onEnd(s)
    }
    end('before shutdown')
    await shutdown()
    end('after shutdown')
    expect(getStats()).toMatchObject({ spansQueued: 2, spansExported: 0, spansDropped: 2, queued: 0 })
  })

  it('shutdown() called again while the first one flushes waits for it, as flush() does, so an app that exits after either loses nothing', async () => {
    h.start()
    h.receiver.delayMs = 300
    span('pending', () => 1)
    const first = shutdown()
    const flushed = flush()
    await shutdown()
    expect(h.receiver.spans.map((s) => s.name)).toEqual(['pending'])
    expect(await flushed).toBe(true)
    await first
    expect(getStats()).toMatchObject({ spansQueued: 1, spansExported: 1, spansDropped: 0 })
  })

  it('counts spans of the init() they were made under, when init() comes before the last shutdown() finished', async () => {
    h.start()
    h.receiver.delayMs = 200
    span('old', () => 1)
    const stopping = shutdown()
    h.start()
    span('new', () => 1)
    await stopping
    expect(await flush()).toBe(true)
    expect(getStats()).toMatchObject({ spansQueued: 1, spansExported: 1, spansDropped: 0 })
  })

  it('flush() waits for a timeout beyond what a timer takes (Infinity), and takes the default for one that is not a number', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.name)
    process.on('warning', onWarning)
    h.start()
    h.receiver.delayMs = 100
    span('a', () => 1)
    expect(await flush(Infinity)).toBe(true)
    span('b', () => 1)
    expect(await flush(Number.NaN)).toBe(true)
    span('c', () => 1)
    expect(await flush(-1)).toBe(false)
    process.off('warning', onWarning)
    expect(warnings).toEqual([])
  })

  it('samples whole traces by sampleRate', async () => {
    h.start({ sampleRate: 0 })
    await span('root', () => span('child', () => 1))
    await flush()
    expect(h.receiver.spans).toHaveLength(0)
  })

  it('posts scores with the bearer key and never throws', async () => {
    h.start()
    const traceId = 'a'.repeat(32)
    const before = Date.now()
    expect(await score({ traceId, spanId: 'b'.repeat(16), name: 'thumbs', value: true, comment: 'great' })).toBe(true)
    expect(h.receiver.scores).toEqual([
      {
        auth: 'Bearer sl_test_key',
        body: { traceId, spanId: 'b'.repeat(16), name: 'thumbs', value: true, comment: 'great', id: expect.stringMatching(/^[0-9a-f-]{36}$/), timestamp: expect.any(String) },
      },
    ])
    // Undated, it is dated when score() is called.
    const dated = Date.parse((h.receiver.scores[0] as { body: { timestamp: string } }).body.timestamp)
    expect(dated).toBeGreaterThanOrEqual(before)
    expect(dated).toBeLessThanOrEqual(Date.now())
    // Feedback given earlier (an evaluation run later, a replayed queue) keeps its own time.
    expect(await score({ traceId, name: 'relevance', value: 0.8, source: 'evaluator', timestamp: Date.UTC(2026, 10, 1, 12) })).toBe(true)
    expect(h.receiver.scores[1]).toMatchObject({ body: { name: 'relevance', timestamp: '2026-11-01T12:00:00.000Z' } })
    expect(await score({ traceId: 'nope', name: 'x', value: 1 })).toBe(false)
    expect(await score({ traceId, name: 'x', value: 1, timestamp: new Date('not a date') })).toBe(false)
    h.receiver.script.push({ status: 500 })
    expect(await score({ traceId, name: 'x', value: 0.5 })).toBe(false)
    expect(await score({ traceId: '0'.repeat(32), name: 'x', value: 1 })).toBe(false)
    expect(await score({ traceId, spanId: '0'.repeat(16), name: 'x', value: 1 })).toBe(false)
    expect(getStats().scoreFailures).toBe(5)
  })

  it("says why the server refused a score, in the server's words", async () => {
    const logger = captureLogger()
    h.start({ logger })
    const message = 'timestamp: 2026-01-01T00:00:00.000Z is older than the 90-day retention (SPANLENS_RETENTION_DAYS); it would be deleted at once'
    h.receiver.script.push({ status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'SPANLENS_BAD_REQUEST', message } }) })
    expect(await score({ traceId: 'e'.repeat(32), name: 'late', value: 1, timestamp: Date.UTC(2026, 0, 1) })).toBe(false)
    expect(logger.lines.join('\n')).toContain(`HTTP 400 SPANLENS_BAD_REQUEST: ${message}`)
  })

  it('retries a score the server could not take yet (429, 503, Retry-After honoured) with the same id, so it is stored once', async () => {
    h.start({ maxRetries: 3 })
    const traceId = 'c'.repeat(32)
    h.receiver.script.push({ status: 503, headers: { 'retry-after': '0' } }, { status: 429, headers: { 'retry-after': '0' } })
    expect(await score({ traceId, name: 'thumbs', value: 1 })).toBe(true)
    expect(h.receiver.scores).toHaveLength(1)
    expect(h.receiver.scoreAttempts).toHaveLength(3)
    expect(new Set(h.receiver.scoreAttempts.map((s) => s.id)).size).toBe(1)
    // The same date too: the store keys a score by its date, so a retry after midnight stays one score.
    expect(new Set(h.receiver.scoreAttempts.map((s) => s.timestamp)).size).toBe(1)
    // An id the app chose is the one sent, every time.
    h.receiver.script.push({ status: 502, headers: { 'retry-after': '0' } })
    expect(await score({ traceId, name: 'thumbs', value: 0, id: 'mine-1' })).toBe(true)
    expect(h.receiver.scoreAttempts.slice(3).map((s) => s.id)).toEqual(['mine-1', 'mine-1'])
    expect(getStats().scoreFailures).toBe(0)
  })

  it('keeps at most 1024 scores and 8 requests at once, however many are made without awaiting: beyond, score() resolves false at once', async () => {
    // Connections, the app's file descriptors, counted where they arrive.
    let connections = 0
    const slow = createServer((req, res) => {
      req.resume()
      req.on('end', () => setTimeout(() => res.writeHead(201).end('{}'), 200))
    }).on('connection', () => connections++)
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r))
    const logger = captureLogger()
    h.start({ logger, exportTimeoutMs: 1000, endpoint: `http://127.0.0.1:${(slow.address() as AddressInfo).port}` })
    const scored = Array.from({ length: 1100 }, () => score({ traceId: 'c'.repeat(32), name: 'burst', value: 1 }))
    expect(await Promise.all(scored.slice(1024))).toEqual(Array(76).fill(false))
    expect(getStats().scoreFailures).toBe(76)
    expect(logger.lines.filter((l) => l.startsWith('score() dropped: 1024 scores are already on their way'))).toHaveLength(1)
    await new Promise((r) => setTimeout(r, 500))
    expect(connections).toBe(8)
    await shutdown()
    slow.closeAllConnections()
    slow.close()
  })

  it('flush() that runs out of time leaves a score nobody awaits unable to hold the process', async () => {
    const silent = createServer(() => {})
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    h.start({ endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, exportTimeoutMs: 300 })
    // The timers started from here on that are still pending and referenced when flush() gives up. Counting the
    // process's timers instead read other tests' timers ending meanwhile on a loaded host.
    const started = new Set<NodeJS.Timeout>()
    const ended = new Set<NodeJS.Timeout>()
    const realSet = globalThis.setTimeout
    const realClear = globalThis.clearTimeout
    const set = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const t: NodeJS.Timeout = realSet((...a: unknown[]) => (ended.add(t), fn(...a)), ms, ...args)
      started.add(t)
      return t
    }) as typeof setTimeout)
    const clear = vi.spyOn(globalThis, 'clearTimeout').mockImplementation((t) => (ended.add(t as NodeJS.Timeout), realClear(t)))
    try {
      void score({ traceId: 'f'.repeat(32), name: 'later', value: 1 })
      expect(await flush(50)).toBe(false)
      expect(started.size).toBeGreaterThan(0)
      expect([...started].filter((t) => !ended.has(t) && t.hasRef())).toEqual([])
    } finally {
      set.mockRestore()
      clear.mockRestore()
    }
    await shutdown()
    silent.closeAllConnections()
    silent.close()
  })

  it('posts scores with the endpoint URL\'s credentials as Basic auth, as span exports do', async () => {
    const url = new URL(h.receiver.url)
    url.username = 'app'
    url.password = 's3cret'
    h.start({ endpoint: url.href, apiKey: undefined, maxRetries: 0 })
    expect(await score({ traceId: 'e'.repeat(32), name: 'thumbs', value: 1 })).toBe(true)
    expect((h.receiver.scores[0] as { auth?: string } | undefined)?.auth).toBe(`Basic ${Buffer.from('app:s3cret').toString('base64')}`)
  })

  it('gives a score up after maxRetries when the server stays away, resolving false without rejecting', async () => {
    h.start({ endpoint: 'http://127.0.0.1:1', maxRetries: 1 })
    const t0 = Date.now()
    expect(await score({ traceId: 'd'.repeat(32), name: 'thumbs', value: 1 })).toBe(false)
    // One retry after 250-500 ms of backoff.
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(getStats().scoreFailures).toBe(1)
  })
})

describe('export: what is said when spans cannot leave', () => {
  it('says at the first attempt, not once its retries are spent, that the endpoint refused the connection, and once for every batch', async () => {
    const logger = captureLogger()
    h.start({ endpoint: 'http://127.0.0.1:1', maxRetries: 5, maxBatchSize: 2, exportTimeoutMs: 300, logger })
    for (let i = 0; i < 6; i++) span(`refused-${i}`, () => i)
    expect(await flush(300)).toBe(false)
    expect(logger.lines).toEqual([
      'export to http://127.0.0.1:1/v1/traces got no answer (Error: connect ECONNREFUSED 127.0.0.1:1); retrying up to 5 times, its 2 spans kept meanwhile',
    ])
  })

  it('says at the first attempt that the endpoint did not answer in time', async () => {
    const logger = captureLogger()
    h.start({ exportTimeoutMs: 100, maxRetries: 3, logger })
    h.receiver.delayMs = 1000
    span('unanswered', () => 1)
    await vi.waitFor(() => expect(logger.lines).toEqual([`export to ${h.receiver.url}/v1/traces got no answer (Error: export timed out after 100 ms); retrying up to 3 times, its 1 spans kept meanwhile`]), {
      timeout: 2000,
      interval: 20,
    })
  })

  it('says, naming the endpoint and why, the spans shutdown() drops unsent', async () => {
    const logger = captureLogger()
    h.start({ endpoint: 'http://127.0.0.1:1', exportTimeoutMs: 300, logger })
    span('lost', () => 1)
    await shutdown()
    expect(getStats()).toMatchObject({ spansQueued: 1, spansDropped: 1 })
    expect(logger.lines.at(-1)).toBe(
      'export to http://127.0.0.1:1/v1/traces stopped with 1 spans unsent (the last attempt failed: Error: connect ECONNREFUSED 127.0.0.1:1); dropped them (1 since init, see getStats())',
    )
  })

  it("names the endpoint without the credentials or the query values its URL carries", async () => {
    const logger = captureLogger()
    h.start({ endpoint: 'http://user:s3cret@127.0.0.1:1/?token=t0ken', exportTimeoutMs: 300, logger })
    span('lost', () => 1)
    await shutdown()
    expect(logger.lines).toHaveLength(2)
    for (const line of logger.lines) {
      expect(line).toContain('export to http://127.0.0.1:1/v1/traces?… ')
      expect(line).not.toMatch(/s3cret|t0ken|user/)
    }
  })

  it('says, once a minute, that the queue was full and its oldest spans dropped', async () => {
    const logger = captureLogger()
    h.start({ endpoint: 'http://127.0.0.1:1', maxQueueSize: 10, maxBatchSize: 5, maxConcurrentExports: 1, maxRetries: 1, logger })
    for (let i = 0; i < 100; i++) span(`burst-${i}`, () => i)
    await new Promise((r) => setImmediate(r))
    const dropped = getStats().spansDropped
    expect(dropped).toBeGreaterThanOrEqual(100 - 10 - 5)
    expect(logger.lines.filter((l) => l.startsWith('the export queue is full'))).toEqual([
      `the export queue is full (maxQueueSize 10 spans, or 64 MiB): dropped the oldest spans, as spans end faster than http://127.0.0.1:1/v1/traces takes them (1 since init, see getStats())`,
    ])
  })
})
