import { whileWithin } from './deadline.js'
import { diag, describe, shownUrl } from './diag.js'
import { Http1Client } from './export/http1-client.js'
import { jsonError, oneLine } from './export/failure-reason.js'
import { parseRetryAfter, RETRYABLE_STATUS } from './retry.js'
import { SDK_VERSION } from './version.js'

export type PostResult = { ok: true } | { ok: false; retryable: boolean; retryAfterMs?: number; reason: string }

/** Longer than any score's retries; cleared when the score settles. */
const HOLD_MS = 2 ** 31 - 1
/**
 * Scores not settled (waiting, on the wire or between retries), and requests on the wire at once.
 * Unbounded, 20,000 scores made without awaiting against an endpoint that did not answer opened a
 * connection each: the app's process ran out of file descriptors (EMFILE) and held 200 MB.
 */
const MAX_SCORES = 1024
const MAX_REQUESTS = 8

/**
 * A score's promise that knows whether the app waits for it: `await`, `.then(fn)`,
 * `Promise.all` and returning it from an async function all call `then` with a
 * fulfilment handler (a subclass is not %Promise%, so `await` looks its `then` up
 * and calls it). `.catch()` alone passes none: it is how a promise is let go.
 * Promises made from it by `then` are plain ones (species).
 */
class ScorePromise extends Promise<boolean> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise
  }

  /** Called once, the first time the app waits for the result; private, so the app's promise shows no field of ours. */
  #onAwait: (() => void) | undefined

  constructor(executor: (resolve: (ok: boolean) => void) => void, onAwait: () => void) {
    super(executor)
    this.#onAwait = onAwait
  }

  override then<A = boolean, B = never>(
    onFulfilled?: ((value: boolean) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    const onAwait = this.#onAwait
    if (onAwait && typeof onFulfilled === 'function') {
      this.#onAwait = undefined
      onAwait()
    }
    return super.then(onFulfilled, onRejected)
  }
}

/**
 * Where score() posts: POST {endpoint}/api/v1/scores over the exporter's HTTP/1.1
 * client, whose connections and timers never keep the process alive
 * (http1-client.ts), as OpenTelemetry JS unrefs its exporters' timers. A score the
 * app does not wait for does not hold a finished process (a CLI script that scores
 * and returns exits at once); one it waits for (`await score()`) holds it with a
 * timer of its own until the score settles, and flush(), shutdown() and the
 * SIGTERM flush wait for every score in flight (exit.ts).
 */
export class ScoreSender {
  private readonly http: Http1Client
  /**
   * Scores not settled yet, awaited or not, as the SDK's own promises: flush() waiting on the ones
   * score() returned would count as the app awaiting them, and hold the process past its timeout.
   */
  private readonly inFlight = new Set<Promise<void>>()
  /** Of those, the ones the app waits for. */
  private awaited = 0
  /** Requests on the wire, and the ones waiting for a free slot. */
  private requests = 0
  private readonly queued: (() => void)[] = []

  constructor(
    private readonly url: string,
    headers: Record<string, string>,
    private readonly timeoutMs: number,
  ) {
    this.http = new Http1Client(new URL(url), { 'user-agent': `spanlens-sdk/${SDK_VERSION}`, ...headers, 'content-type': 'application/json' })
  }

  /**
   * Starts `send` and returns what score() returns: tracked until it settles, holding the process only
   * once the app waits for it. False at once, without sending, when MAX_SCORES are not settled yet.
   */
  track(send: () => Promise<boolean>): Promise<boolean> {
    if (this.inFlight.size >= MAX_SCORES) {
      diag.stats.scoreFailures++
      diag.warnOnce(`score() dropped: ${MAX_SCORES} scores are already on their way to ${shownUrl(this.url)} (see getStats().scoreFailures)`)
      return Promise.resolve(false)
    }
    const work = send()
    let settled = false
    let hold: NodeJS.Timeout | undefined
    let resolve!: (ok: boolean) => void
    const p = new ScorePromise(
      (r) => (resolve = r),
      () => {
        if (settled) return
        this.awaited++
        hold = setTimeout(noop, HOLD_MS)
      },
    )
    // work never rejects (score.ts catches); false if it did anyway.
    const done: Promise<void> = work
      .catch(() => false)
      .then((ok) => {
        settled = true
        this.inFlight.delete(done)
        if (hold) {
          clearTimeout(hold)
          this.awaited--
        }
        resolve(ok)
      })
    this.inFlight.add(done)
    return p
  }

  /** One attempt: the server's reply as a result, never a rejection. */
  async post(payload: string): Promise<PostResult> {
    if (this.requests < MAX_REQUESTS) this.requests++
    // A slot handed over by a request that ended (release()).
    else await new Promise<void>((r) => this.queued.push(r))
    let res
    try {
      res = await this.http.post(Buffer.from(payload), this.timeoutMs)
    } catch (err) {
      // Refused, reset or timed out: the server may come back.
      return { ok: false, retryable: true, reason: describe(err) }
    } finally {
      this.release()
    }
    if (res.status >= 200 && res.status < 300) return { ok: true }
    const retryAfterMs = parseRetryAfter(res.retryAfter)
    return {
      ok: false,
      retryable: RETRYABLE_STATUS.has(res.status),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      reason: `HTTP ${res.status}${serverReason(res.errorBody?.toString('utf8') ?? '')}`,
    }
  }

  /**
   * Waits for every score in flight, and those scored meanwhile, for at most `timeoutMs` (a ref'd
   * timer: the requests do not hold the process). True when all settled in time, whatever the server said.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.inFlight.size === 0) return true
    await whileWithin(timeoutMs, () => this.inFlight.size > 0, () => Promise.race(this.inFlight))
    return this.inFlight.size === 0
  }

  private release(): void {
    const next = this.queued.shift()
    if (next) next()
    else this.requests--
  }

  /** The process exits or the SDK stopped: requests on the wire are cut, waiting ones fail. Returns how many scores nobody waited for were unsettled. */
  close(): number {
    this.http.close()
    // Each woken request fails on the closed client and releases the slot it was handed.
    const woken = this.queued.splice(0)
    this.requests += woken.length
    for (const next of woken) next()
    return this.inFlight.size - this.awaited
  }
}

function noop(): void {}

/**
 * What a Spanlens server said about a refused score (`{"error":{"code","message"}}`), for the
 * warning: "HTTP 400" alone does not tell the app which field to fix. '' for any other body.
 */
function serverReason(text: string): string {
  const e = jsonError(text)
  return e?.code === undefined ? '' : ` ${e.code}: ${oneLine(e.message)}`
}
