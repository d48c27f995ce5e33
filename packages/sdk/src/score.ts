import { randomUUID } from 'node:crypto'
import { isValidSpanId, isValidTraceId } from '@opentelemetry/api'
import { REDACTED_NAMES } from './attributes.js'
import { diag, describe, shownUrl } from './diag.js'
import { cutMarked, MAX_MARK_LENGTH } from './redact-cut.js'
import { retryDelayMs, sleep } from './retry.js'
import { getRuntime, type Runtime } from './runtime.js'

export interface ScoreInput {
  traceId: string
  spanId?: string
  /** e.g. `thumbs`, `relevance`, `toxicity`. */
  name: string
  value: number | string | boolean
  comment?: string
  /** Who scored: `user`, `evaluator`, ... (server default applies when absent). */
  source?: string
  /**
   * Idempotency key: re-posting the same id updates instead of duplicating. One is
   * made when absent, so the SDK's own retries never store a score twice.
   */
  id?: string
  /**
   * When the feedback was given (a Date or epoch ms), for evaluations run later
   * or replayed from a queue; when score() is called otherwise.
   */
  timestamp?: Date | number
}

/**
 * Attaches feedback or an evaluation to a trace (or one span of it) via
 * POST {endpoint}/api/v1/scores. Fire-and-forget: resolves true when the server
 * accepted it, false otherwise (before init, bad input, refused, endpoint still
 * down after the retries). Never rejects. A timeout, a lost connection and 429,
 * 502, 503, 504 are retried like span exports (`maxRetries`, Retry-After honoured,
 * else backoff with jitter); the score's id, made here when absent, keeps a
 * retried score from being stored twice. Holds the process only while the app
 * waits for it (score-sender.ts).
 */
export function score(input: ScoreInput): Promise<boolean> {
  const rt = getRuntime()
  if (!rt) return Promise.resolve(false)
  return rt.scores.track(() => send(rt, input))
}

async function send(rt: Runtime, input: ScoreInput): Promise<boolean> {
  try {
    if (!validate(input)) {
      diag.stats.scoreFailures++
      diag.warnOnce('score() needs traceId (32 hex, not all zeros), name, a number/string/boolean value, and a valid timestamp when given')
      return false
    }
    const body: Record<string, unknown> = { traceId: input.traceId.toLowerCase(), name: input.name, value: input.value, id: input.id ?? randomUUID() }
    for (const k of ['spanId', 'comment', 'source'] as const) if (input[k] !== undefined) body[k] = input[k]
    // A comment is the user's own words (feedback), as free as a prompt, and a label may quote them: redacted and cut as content is.
    if (typeof input.comment === 'string') body.comment = scoreText(rt, REDACTED_NAMES.scoreComment, input.comment, MAX_COMMENT)
    if (typeof input.value === 'string') body.value = scoreText(rt, REDACTED_NAMES.scoreLabel, input.value, MAX_LABEL)
    // Dated here when not given: the server dates a score it receives undated, and keys it by that date, so a
    // retry that arrived after midnight (UTC) would be a second score despite its id.
    body.timestamp = new Date(input.timestamp ?? Date.now()).toISOString()
    const payload = JSON.stringify(body)
    for (let attempt = 0; ; attempt++) {
      const result = await rt.scores.post(payload)
      if (result.ok) return true
      if (!result.retryable || attempt >= rt.config.maxRetries || getRuntime() !== rt) {
        diag.stats.scoreFailures++
        diag.warnOnce(`score ${result.retryable ? 'could not be sent' : `rejected by ${shownUrl(rt.config.scoresUrl)}`}: ${result.reason}`)
        return false
      }
      await sleep(retryDelayMs(attempt, result.retryAfterMs))
    }
  } catch (err) {
    diag.stats.scoreFailures++
    diag.warnOnce(`score could not be sent: ${describe(err)}`)
    return false
  }
}

/**
 * The longest comment and label a Spanlens server stores (packages/query/src/scores/record.ts), in
 * characters: a longer one is refused (HTTP 400, over 1 MiB 413) and score() resolves false.
 */
const MAX_COMMENT = 100_000
const MAX_LABEL = 10_000

/**
 * A comment or label as it is sent: redacted, and cut at maxContentLength like content, marked, so that
 * with its marker it is never longer than the server takes (`limit`).
 */
function scoreText(rt: Runtime, name: string, text: string, limit: number): string {
  const redact = rt.redact
  const max = Math.min(rt.config.maxContentLength, limit)
  if (text.length <= max) {
    const whole = redact ? redact(name, text) : text
    // Markers longer than what they replace can make it longer than the server takes.
    if (whole.length <= limit) return whole
  }
  return cutMarked(text, Math.min(max, limit - MAX_MARK_LENGTH), redact && ((v) => redact(name, v)))
}

function validate(input: ScoreInput): boolean {
  if (typeof input !== 'object' || input === null) return false
  // OpenTelemetry's own test: hex of the id's length, and not the all-zero invalid id, which the server refuses.
  if (typeof input.traceId !== 'string' || !isValidTraceId(input.traceId)) return false
  if (input.spanId !== undefined && (typeof input.spanId !== 'string' || !isValidSpanId(input.spanId))) return false
  if (typeof input.name !== 'string' || input.name.length === 0) return false
  if (input.timestamp !== undefined) {
    const ts = input.timestamp instanceof Date ? input.timestamp.getTime() : input.timestamp
    if (typeof ts !== 'number' || !Number.isFinite(ts) || Number.isNaN(new Date(ts).getTime())) return false
  }
  const t = typeof input.value
  return (t === 'number' && Number.isFinite(input.value)) || t === 'string' || t === 'boolean'
}
