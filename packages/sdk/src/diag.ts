/**
 * Where the SDK's own failures go. Following OpenTelemetry JS, instrumentation
 * never throws into the app: a failure becomes one counter increment and, at
 * most, one log line. Counters are plain numbers so reading them is free.
 */
export interface DiagLogger {
  debug(message: string): void
  warn(message: string): void
  error(message: string): void
}

export interface SdkStats {
  /** Spans handed to the exporter queue. */
  spansQueued: number
  /** Spans the server accepted. */
  spansExported: number
  /** Spans lost: queue overflow, retries exhausted, or a rejected batch. */
  spansDropped: number
  /** Of those, spans too large to send: over the export queue's bytes, or refused as too large (HTTP 413) in a request of their own. */
  spansTooLarge: number
  /** Export requests that failed (each retry counts). */
  exportFailures: number
  /** Export attempts retried after 429/5xx/network errors. */
  exportRetries: number
  /** Instrumentation errors swallowed to protect the app (malformed response, bad hook). */
  instrumentationErrors: number
  /** Redaction hooks that threw; the value was replaced, never sent as is. */
  redactionFailures: number
  /** Score posts that failed. */
  scoreFailures: number
}

export function emptyStats(): SdkStats {
  return {
    spansQueued: 0,
    spansExported: 0,
    spansDropped: 0,
    spansTooLarge: 0,
    exportFailures: 0,
    exportRetries: 0,
    instrumentationErrors: 0,
    redactionFailures: 0,
    scoreFailures: 0,
  }
}

const noop = (): void => {}

/** Console logger, quiet below `warn` unless debugging. Lines are prefixed so apps can grep them. */
export function consoleLogger(debug: boolean): DiagLogger {
  return {
    debug: debug ? (m) => console.debug(`[spanlens] ${m}`) : noop,
    warn: (m) => console.warn(`[spanlens] ${m}`),
    error: (m) => console.error(`[spanlens] ${m}`),
  }
}

class Diag {
  stats: SdkStats = emptyStats()
  private current: DiagLogger = consoleLogger(false)
  /**
   * When each warning was last said, by key. Repeated warnings (the endpoint
   * down: a failed batch every second) would flood an app's logs; a key leaves
   * out what changes from one to the next (a batch's size), and a map, not the
   * last line only, keeps two alternating warnings from each printing every time.
   */
  private said = new Map<string, number>()

  get logger(): DiagLogger {
    return this.current
  }

  /** A new logger (each init()) gets every warning once, including one the previous logger had. */
  set logger(logger: DiagLogger) {
    this.current = logger
    this.said.clear()
  }

  /** Says `message` unless the same `key` was said within `windowMs`. */
  warnOnce(message: string, key = message, windowMs = 60_000): void {
    const now = Date.now()
    const at = this.said.get(key)
    if (at !== undefined && now - at < windowMs) return
    // Bounded: keys carry error texts, which could vary without end.
    if (this.said.size >= 256) this.said.clear()
    this.said.set(key, now)
    this.safe(() => this.logger.warn(message))
  }

  /** An instrumentation bug or a malformed provider response: count it, say it once. */
  instrumentationError(where: string, err: unknown): void {
    this.stats.instrumentationErrors++
    this.warnOnce(`instrumentation error in ${where}: ${describe(err)}`)
  }

  debug(message: string): void {
    this.safe(() => this.logger.debug(message))
  }

  private safe(fn: () => void): void {
    try {
      fn()
    } catch {
      // A broken logger must not break the app either.
    }
  }
}

/**
 * A URL as the SDK's lines name it: without its user and password (sent as Basic auth) or its query's
 * values, which may carry a key as well; a query is marked, so the URL is not mistaken for another.
 */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`
  } catch {
    return '(an endpoint that is not a URL)'
  }
}

export function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`
  return String(err)
}

/** Process-wide: one SDK instance per process, like the OpenTelemetry globals. */
export const diag = new Diag()
