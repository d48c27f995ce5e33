import { gzip } from 'node:zlib'
import { promisify } from 'node:util'
import type { Attributes } from '@opentelemetry/api'
import type { FinishedSpan } from '../trace/types.js'
import { diag, describe, shownUrl } from '../diag.js'
import { BoundedQueue } from './queue.js'
import { parseRetryAfter, RETRYABLE_STATUS, retryDelayMs, sleep } from '../retry.js'
import { SoonBatch } from '../soon-batch.js'
import { SDK_VERSION } from '../version.js'
import { Http1Client, isUnreachable } from './http1-client.js'
import { encodeRequest, encodeSpan, type AttributeTransform, type EncodedSpan } from './otlp-encode.js'
import { whileWithin } from '../deadline.js'
import { failureReason } from './failure-reason.js'

const gzipAsync = promisify(gzip)

/**
 * Encoded spans queued, and in one request, at most: the count bounds (maxQueueSize,
 * maxBatchSize) alone let spans carrying a 1 MB attribute each hold 3.9 GB with the
 * endpoint down. A request stays well under a Spanlens server's body limit (64 MiB)
 * and an OpenTelemetry Collector's (20 MiB), so one large span does not get its whole
 * batch refused with 413.
 */
const QUEUE_BYTES = 64 * 1024 * 1024
const BATCH_BYTES = 8 * 1024 * 1024

export interface ExporterOptions {
  url: string
  headers: Record<string, string>
  maxQueueSize: number
  maxBatchSize: number
  maxConcurrentExports: number
  flushIntervalMs: number
  timeoutMs: number
  compression: 'gzip' | 'none'
  maxRetries: number
  transform: AttributeTransform | undefined
  resourceDefaults: Attributes
}


/**
 * `reason` names the failure's kind (the once-a-minute warning is per reason); `detail` is what the server said of it;
 * `tooLarge`: the server refused the request for its size (413), which a smaller one may pass;
 * `unreachable`: no endpoint answered, no connection or no reply in time (http1-client.ts isUnreachable).
 */
type SendResult =
  | { ok: true }
  | { ok: false; retryable: boolean; tooLarge?: boolean; unreachable?: boolean; retryAfterMs?: number; reason: string; detail?: string }

const PAYLOAD_TOO_LARGE = 413

/** A failed send as the warnings name it: its kind, and what the server said of it. */
const said = (result: Extract<SendResult, { ok: false }>): string => `${result.reason}${result.detail === undefined ? '' : `: ${result.detail}`}`
/** A request body under this refused as too large is the endpoint refusing everything, not a span too large (tooLarge). */
const SPLIT_FLOOR = 64 * 1024

/**
 * Background OTLP/HTTP protobuf exporter: spans wait in a bounded queue and
 * leave in batches (gzip unless the endpoint is on this host, config.ts) on a timer (or as soon as a batch is full), up to
 * `maxConcurrentExports` requests at once. One request at a time dropped about
 * half the spans at 3-5k calls/s: the queue filled while each request waited
 * for its reply. Memory stays bounded: the queue, plus one batch per request in
 * flight (retrying included). Nothing here is awaited by the app except flush().
 *
 * A span is encoded to its protobuf bytes soon after it ends (one setImmediate
 * batch, not in the app's `span.end()`), and the queue keeps the bytes: span
 * objects that waited seconds for their batch lived long enough to be promoted
 * to V8's old space, which cost more GC than encoding them.
 */
export class OtlpExporter {
  private queue: BoundedQueue<EncodedSpan>
  /** Ended spans, encoded into the queue together soon after. */
  private unencoded = new SoonBatch<FinishedSpan>((spans) => this.encode(spans))
  private timer: NodeJS.Timeout
  private readonly inFlight = new Set<Promise<void>>()
  /** Spans in the requests in flight (retrying included). */
  private inFlightSpans = 0
  private stopped = false
  /** The process is exiting: what is still unsent was counted as dropped (abandon()). */
  private abandoned = false
  /** How the last request failed, while no request has succeeded since: what abandon() says its dropped spans met. */
  private lastFailure: string | undefined
  /**
   * Export requests go through a client of their own (http1-client.ts says why),
   * not the global fetch the app's client uses: sharing undici with the exporter's
   * Buffer bodies made the app's own requests slower (its code went
   * polymorphic) and cost ~50 µs per span in undici's body streaming, in the
   * app benchmark (bench/sdk/RESULTS.md).
   */
  private readonly http: Http1Client
  /**
   * The counters of the init() that made this exporter: one still flushing after shutdown() while the
   * app calls init() again counts into its own, not into the new init()'s (which would then show more
   * spans exported than queued).
   */
  private readonly stats = diag.stats
  /** The endpoint as warnings name it (shownUrl). */
  private readonly shown: string

  constructor(private opts: ExporterOptions) {
    const headers: Record<string, string> = { 'user-agent': `spanlens-sdk/${SDK_VERSION}`, ...opts.headers, 'content-type': 'application/x-protobuf' }
    if (opts.compression === 'gzip') headers['content-encoding'] = 'gzip'
    // At most maxConcurrentExports requests are in flight (kick()), so as many connections.
    this.http = new Http1Client(new URL(opts.url), headers)
    this.shown = shownUrl(opts.url)
    this.queue = new BoundedQueue<EncodedSpan>(opts.maxQueueSize, QUEUE_BYTES, (s) => s.bytes.length)
    this.timer = setInterval(() => this.kick(), opts.flushIntervalMs)
    // The exporter must never be what keeps a finished app alive.
    this.timer.unref()
  }

  get pending(): number {
    return this.queue.size + this.unencoded.size
  }

  enqueue(span: FinishedSpan): void {
    // Counted even when stopped (an app's sdk-trace-base 1.x provider keeps calling a processor it cannot remove), so that
    // spansQueued = spansExported + spansDropped holds once stopped.
    this.stats.spansQueued++
    if (this.stopped) {
      this.stats.spansDropped++
      return
    }
    this.unencoded.push(span)
  }

  /** Encodes the spans enqueued so far now (a batch of LLM calls just ended), not in a turn of their own. */
  encodeNow(): void {
    this.unencoded.drain()
  }

  /** Encodes spans that ended into the queue, and starts a request if a batch filled. */
  private encode(spans: FinishedSpan[]): void {
    for (const span of spans) {
      let bytes: Uint8Array
      try {
        bytes = encodeSpan(span, this.opts.transform)
      } catch (err) {
        this.stats.spansDropped++
        diag.instrumentationError('span encoding', err)
        continue
      }
      if (bytes.length > QUEUE_BYTES) {
        this.stats.spansTooLarge++
        this.stats.spansDropped++
        diag.warnOnce(`a span of ${(bytes.length / 1048576).toFixed(0)} MiB encoded is over the export queue's ${QUEUE_BYTES / 1048576} MiB and was dropped (many large attributes: cut them with OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT)`, 'span over the queue')
        continue
      }
      const overflow = this.queue.push({ resource: span.resource, scope: span.instrumentationScope, bytes })
      if (overflow > 0) {
        this.stats.spansDropped += overflow
        diag.warnOnce(
          `the export queue is full (maxQueueSize ${this.opts.maxQueueSize} spans, or ${QUEUE_BYTES / 1048576} MiB): dropped the oldest spans, as spans end faster than ${this.shown} takes them (${this.stats.spansDropped} since init, see getStats())`,
          'export queue full',
        )
      }
    }
    this.kick(true)
  }

  /** In-flight export requests (for tests and stats). */
  get exportsInFlight(): number {
    return this.inFlight.size
  }

  /**
   * Starts requests for queued spans while there is a free slot; with `fullOnly`
   * (a batch just filled), only for full batches: a partial one waits for the timer.
   */
  private kick(fullOnly = false): void {
    if (!fullOnly) this.unencoded.drain()
    while (this.inFlight.size < this.opts.maxConcurrentExports && (fullOnly ? this.batchFull() : this.queue.size > 0)) {
      const batch = this.queue.take(this.opts.maxBatchSize, BATCH_BYTES)
      this.inFlightSpans += batch.length
      const request: Promise<void> = this.exportPart(batch)
        .finally(() => {
          this.inFlight.delete(request)
          // Keep draining full batches that queued while this request was on the
          // wire; a partial one waits for the timer. Re-kicking on any queued span
          // sent a request per ~20 spans at 1k calls/s, each with its own gzip and
          // HTTP round trip on the app's thread.
          this.kick(true)
        })
      this.inFlight.add(request)
    }
  }


  /** A request's worth is queued: maxBatchSize spans, or BATCH_BYTES. */
  private batchFull(): boolean {
    return this.queue.size >= this.opts.maxBatchSize || this.queue.bytes >= BATCH_BYTES
  }

  /** Exports `batch`, never rejecting: its spans end counted as exported or dropped (settle()). */
  private async exportPart(batch: EncodedSpan[]): Promise<void> {
    try {
      await this.exportBatch(batch)
    } catch (err) {
      // Thrown before the request was sent (encoding, gzip): none of the batch was counted yet.
      this.settle(batch.length, 'spansDropped')
      diag.instrumentationError('export', err)
    }
  }

  /**
   * Counts `n` spans of a request as exported or dropped, as they leave the requests in flight. Per part, not
   * per request: a request split after a 413 has parts exported before the process exits and parts still
   * in flight, which abandon() counts as dropped.
   */
  private settle(n: number, as: 'spansExported' | 'spansDropped'): void {
    if (this.abandoned) return
    this.stats[as] += n
    this.inFlightSpans -= n
  }

  private async exportBatch(batch: EncodedSpan[]): Promise<void> {
    const encoded = encodeRequest(batch, { resourceDefaults: this.opts.resourceDefaults })
    const body = this.opts.compression === 'gzip' ? await gzipAsync(encoded) : encoded
    for (let attempt = 0; ; attempt++) {
      const result = await this.send(body)
      if (this.abandoned) return
      if (result.ok) {
        this.lastFailure = undefined
        this.settle(batch.length, 'spansExported')
        diag.debug(`exported ${batch.length} spans`)
        return
      }
      this.stats.exportFailures++
      this.lastFailure = said(result)
      if (result.tooLarge) return this.tooLarge(batch, result, body.length)
      if (!result.retryable || attempt >= this.opts.maxRetries || this.stopped) {
        this.settle(batch.length, 'spansDropped')
        // Once a minute per reason, with the total dropped so far (getStats()), not a line per batch.
        diag.warnOnce(
          `export to ${this.shown} failed (${said(result)}); dropped ${batch.length} spans (${this.stats.spansDropped} since init, see getStats())`,
          `export failed: ${result.reason}`,
        )
        return
      }
      if (attempt === 0 && result.unreachable) {
        // Said at the first attempt, not once the retries are spent (~13 s at the defaults): a script or a
        // serverless handler stops before that, and a service learns of it as it starts. Once a minute, as
        // the line for spans dropped, and only when nothing answered: a reset by a server that is there
        // (a restart, a proxy's idle close) usually passes on the retry, and is said only if it does not.
        diag.warnOnce(
          `export to ${this.shown} got no answer (${said(result)}); retrying up to ${this.opts.maxRetries} times, its ${batch.length} spans kept meanwhile`,
          `export unreachable: ${result.reason}`,
        )
      }
      const delay = retryDelayMs(attempt, result.retryAfterMs)
      diag.debug(`export to ${this.shown} failed (${said(result)}); retry ${attempt + 1} of ${this.opts.maxRetries} in ${Math.round(delay)} ms`)
      this.stats.exportRetries++
      await sleep(delay)
    }
  }

  /**
   * The server refused `batch` as too large: its halves go in requests of their own, down to single spans,
   * so that a span too large for the server (its body limit, or a collector's) costs only itself, not the
   * spans that shared its request. At most about 2·log2(maxBatchSize) more requests for one such span.
   * A request of several spans refused under SPLIT_FLOOR bytes is not split: no OTLP receiver limits a
   * body that low (the Collector's default is 20 MiB, Spanlens's 64 MiB), so the endpoint refuses every
   * request, a proxy in front of it most likely, and halving to single spans would cost a 512-span
   * batch 1,023 requests for nothing.
   */
  private async tooLarge(batch: EncodedSpan[], result: Extract<SendResult, { ok: false }>, bodyBytes: number): Promise<void> {
    if (batch.length > 1 && bodyBytes < SPLIT_FLOOR) {
      this.settle(batch.length, 'spansDropped')
      diag.warnOnce(
        `export to ${this.shown} refused a request of ${Math.ceil(bodyBytes / 1024)} KiB as too large (${said(result)}): a limit that low is the endpoint's, not a span's; dropped its ${batch.length} spans (${this.stats.spansDropped} since init, see getStats())`,
        'request refused as too large',
      )
      return
    }
    if (batch.length > 1) {
      const half = Math.ceil(batch.length / 2)
      await this.exportPart(batch.slice(0, half))
      if (!this.abandoned) await this.exportPart(batch.slice(half))
      return
    }
    this.stats.spansTooLarge++
    this.settle(1, 'spansDropped')
    const kib = Math.ceil((batch[0] as EncodedSpan).bytes.length / 1024)
    diag.warnOnce(
      `export to ${this.shown} refused a span of ${kib} KiB encoded as too large (${said(result)}); dropped it alone (${this.stats.spansTooLarge} since init, see getStats() spansTooLarge)`,
      'span refused as too large',
    )
  }

  private async send(body: Uint8Array): Promise<SendResult> {
    try {
      const res = await this.http.post(body, this.opts.timeoutMs)
      if (res.status >= 200 && res.status < 300) return { ok: true }
      const detail = failureReason(res.errorBody)
      return {
        ok: false,
        retryable: RETRYABLE_STATUS.has(res.status),
        tooLarge: res.status === PAYLOAD_TOO_LARGE,
        retryAfterMs: parseRetryAfter(res.retryAfter ?? null),
        reason: `HTTP ${res.status}`,
        ...(detail === undefined ? {} : { detail }),
      }
    } catch (err) {
      // Connection refused, DNS, timeout, a reply cut short: the endpoint may come back.
      return { ok: false, retryable: true, unreachable: isUnreachable(err), reason: describe(err) }
    }
  }

  /** Spans not yet accepted or dropped: waiting to be encoded, queued, or in a request. */
  get unsent(): number {
    return this.pending + this.inFlightSpans
  }

  /**
   * Stops now (the process is exiting, or shutdown() flushed): what was not sent by now never
   * will be, and is counted as dropped, so spansQueued = spansExported + spansDropped afterwards.
   * Synchronous: it runs in an 'exit' listener.
   */
  abandon(): void {
    if (this.abandoned) return
    this.abandoned = true
    this.stopped = true
    clearInterval(this.timer)
    const waiting = this.unencoded.discard() + this.queue.take(this.queue.size).length
    const inFlight = this.inFlightSpans
    this.stats.spansDropped += waiting + inFlight
    this.inFlightSpans = 0
    this.http.close()
    if (waiting + inFlight > 0) {
      // A short-lived app stops before its retries run out, or while its request waits for a reply: said
      // here, or its spans would be lost without a word. Synchronous, as the 'exit' listener needs.
      const why = this.lastFailure !== undefined ? `the last attempt failed: ${this.lastFailure}` : inFlight > 0 ? 'its request had no reply yet' : 'not sent yet'
      diag.warnOnce(
        `export to ${this.shown} stopped with ${waiting + inFlight} spans unsent (${why}); dropped them (${this.stats.spansDropped} since init, see getStats())`,
        'spans unsent at stop',
      )
    }
  }

  /**
   * Sends everything queued; resolves true when all of it (and what ended meanwhile) was accepted
   * in time, false when time ran out or any span was dropped meanwhile (refused, retries spent,
   * queue overflow): a serverless handler that waits for its spans learns they are lost. Never rejects.
   */
  async flush(timeoutMs = this.opts.timeoutMs): Promise<boolean> {
    const droppedBefore = this.stats.spansDropped
    const inTime = await whileWithin(
      timeoutMs,
      () => this.inFlight.size > 0 || this.pending > 0,
      () => {
        this.kick()
        return Promise.race(this.inFlight)
      },
    )
    return inTime && this.pending === 0 && this.inFlight.size === 0 && this.stats.spansDropped === droppedBefore
  }

  /** Flushes, then stops: what did not leave in time is counted as dropped. */
  async shutdown(timeoutMs?: number): Promise<boolean> {
    clearInterval(this.timer)
    const ok = await this.flush(timeoutMs)
    this.abandon()
    return ok
  }
}
