/**
 * When a request to the Spanlens server is worth sending again, and after how long.
 * Only these statuses are: any other 4xx fails the same way again (OTLP/HTTP's rule,
 * used for scores too).
 */
export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([429, 502, 503, 504])

const BASE_DELAY_MS = 500
const MAX_DELAY_MS = 30_000

/**
 * The wait before retry `attempt` (0 for the first): the server's Retry-After when it
 * gave one, else exponential backoff with jitter, which spreads the retries of many app
 * instances after an outage. Never more than a minute.
 */
export function retryDelayMs(attempt: number, retryAfterMs: number | undefined): number {
  const backoff = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt)
  return Math.min(retryAfterMs ?? backoff / 2 + Math.random() * (backoff / 2), MAX_DELAY_MS * 2)
}

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(value)
  if (Number.isFinite(date)) return Math.max(0, date - Date.now())
  return undefined
}

/** A wait that never keeps the process alive. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
