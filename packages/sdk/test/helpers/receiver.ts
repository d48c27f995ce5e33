import { createServer, type IncomingMessage, type Server } from 'node:http'
import { gunzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import protobuf from 'protobufjs'

/** A decoded span as the tests look at it: ids in hex, attributes as plain JS values. */
export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  kind: number
  attributes: Record<string, unknown>
  status: { code: number; message: string }
  resource: Record<string, unknown>
  scope: string
  /** Epoch milliseconds (from the nanosecond fields). */
  startMs: number
  endMs: number
  events: { name: string; timeMs: number; attributes: Record<string, unknown> }[]
}

const protoDir = fileURLToPath(new URL('../../proto', import.meta.url))
const root = new protobuf.Root()
root.resolvePath = (_o, target) => join(protoDir, target)
root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto')
export const protoRoot = root
const Request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest')

type AnyValue = { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number; arrayValue?: { values?: AnyValue[] } }
function value(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue
  if (v.boolValue !== undefined) return v.boolValue
  if (v.intValue !== undefined) return Number(v.intValue)
  if (v.doubleValue !== undefined) return v.doubleValue
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value)
  return undefined
}
function attrs(list: { key: string; value: AnyValue }[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const kv of list ?? []) out[kv.key] = value(kv.value ?? {})
  return out
}
const hex = (b: string | undefined) => Buffer.from(b ?? '', 'base64').toString('hex')

const nanosToMs = (v: unknown) => Number(BigInt(String(v ?? 0)) / 1000n) / 1000

export function decodeOtlp(body: Buffer): ReceivedSpan[] {
  const msg = Request.toObject(Request.decode(body), { longs: String, bytes: String, defaults: false }) as {
    resourceSpans?: { resource?: { attributes?: [] }; scopeSpans?: { scope?: { name?: string }; spans?: Record<string, unknown>[] }[] }[]
  }
  const out: ReceivedSpan[] = []
  for (const rs of msg.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes)
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hex(s.traceId as string),
          spanId: hex(s.spanId as string),
          parentSpanId: hex(s.parentSpanId as string),
          name: String(s.name),
          kind: Number(s.kind ?? 0),
          attributes: attrs(s.attributes as []),
          status: { code: Number((s.status as { code?: number })?.code ?? 0), message: String((s.status as { message?: string })?.message ?? '') },
          resource,
          scope: ss.scope?.name ?? '',
          startMs: nanosToMs(s.startTimeUnixNano),
          endMs: nanosToMs(s.endTimeUnixNano),
          events: ((s.events as { name: string; timeUnixNano?: string; attributes?: [] }[]) ?? []).map((e) => ({
            name: e.name,
            timeMs: nanosToMs(e.timeUnixNano),
            attributes: attrs(e.attributes),
          })),
        })
      }
    }
  }
  return out
}

export interface Receiver {
  url: string
  spans: ReceivedSpan[]
  requests: { at: number; headers: IncomingMessage['headers'] }[]
  scores: unknown[]
  /** Every score body posted, answered or not (scores holds the ones accepted). */
  scoreAttempts: Array<{ id?: string; timestamp?: string }>
  /** Status codes (and headers) for the next requests, consumed in order; then 200. */
  script: { status: number; headers?: Record<string, string>; body?: string }[]
  /** How long each reply waits, as a slow collector would. */
  delayMs: number
  /** Most requests it was answering at the same time. */
  maxConcurrent: number
  waitFor(pred: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>
  /**
   * Forgets what it received, its script and delay, for the next test. A request that arrived
   * before (an export an earlier test's shutdown gave up on, still waiting out its delay) is then
   * answered 200 and recorded nowhere: it must not take the next test's scripted answer.
   */
  reset(): void
  close(): Promise<void>
}

export async function startReceiver(): Promise<Receiver> {
  /** Bumped by reset(): a request remembers the one it arrived in. */
  let generation = 0
  const r: Receiver = {
    url: '',
    spans: [],
    requests: [],
    scores: [],
    scoreAttempts: [],
    script: [],
    delayMs: 0,
    maxConcurrent: 0,
    async waitFor(pred, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs
      while (!pred(r.spans)) {
        if (Date.now() > until) throw new Error(`timed out waiting for spans; have ${r.spans.map((s) => s.name).join(', ')}`)
        await new Promise((res) => setTimeout(res, 20))
      }
      return r.spans
    },
    reset() {
      generation++
      r.spans.length = 0
      r.requests.length = 0
      r.scores.length = 0
      r.scoreAttempts.length = 0
      r.script.length = 0
      r.delayMs = 0
      r.maxConcurrent = 0
    },
    close: () => new Promise((res) => server.close(() => res())),
  }
  let concurrent = 0
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    concurrent++
    r.maxConcurrent = Math.max(r.maxConcurrent, concurrent)
    res.on('finish', () => concurrent--)
    req.on('data', (c: Buffer) => chunks.push(c))
    const arrivedIn = generation
    req.on('end', async () => {
      if (r.delayMs > 0) await new Promise((done) => setTimeout(done, r.delayMs))
      if (arrivedIn !== generation) {
        res.writeHead(200).end()
        return
      }
      r.requests.push({ at: Date.now(), headers: req.headers })
      if (req.url === '/api/v1/scores') r.scoreAttempts.push(JSON.parse(Buffer.concat(chunks).toString()) as { id?: string })
      const step = r.script.shift()
      if (step && step.status !== 200) {
        res.writeHead(step.status, step.headers ?? {})
        res.end(step.body)
        return
      }
      let body = Buffer.concat(chunks)
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body)
      if (req.url === '/api/v1/scores') {
        r.scores.push({ body: JSON.parse(body.toString()), auth: req.headers.authorization })
        res.writeHead(201, { 'content-type': 'application/json' }).end('{}')
        return
      }
      r.spans.push(...decodeOtlp(body))
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
    })
  })
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()))
  const addr = server.address() as { port: number }
  r.url = `http://127.0.0.1:${addr.port}`
  return r
}
