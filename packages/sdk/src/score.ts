import { diag, describe } from './diag.js'
import { getRuntime } from './runtime.js'

export interface ScoreInput {
  traceId: string
  spanId?: string
  /** e.g. `thumbs`, `relevance`, `toxicity`. */
  name: string
  value: number | string | boolean
  comment?: string
  /** Who scored: `user`, `evaluator`, ... (server default applies when absent). */
  source?: string
  /** Idempotency key: re-posting the same id updates instead of duplicating. */
  id?: string
  /**
   * When the feedback was given (a Date or epoch ms), for evaluations run later
   * or replayed from a queue; the server's clock when absent.
   */
  timestamp?: Date | number
}

/**
 * Attaches feedback or an evaluation to a trace (or one span of it) via
 * POST {endpoint}/api/v1/scores. Fire-and-forget: resolves true when the server
 * accepted it, false otherwise (before init, bad input, endpoint down). Never rejects.
 */
export async function score(input: ScoreInput): Promise<boolean> {
  const rt = getRuntime()
  if (!rt) return false
  try {
    if (!validate(input)) {
      diag.stats.scoreFailures++
      diag.warnOnce('score() needs traceId (32 hex), name, a number/string/boolean value, and a valid timestamp when given')
      return false
    }
    const body: Record<string, unknown> = { traceId: input.traceId.toLowerCase(), name: input.name, value: input.value }
    for (const k of ['spanId', 'comment', 'source', 'id'] as const) if (input[k] !== undefined) body[k] = input[k]
    if (input.timestamp !== undefined) body.timestamp = new Date(input.timestamp).toISOString()
    const res = await fetch(rt.config.scoresUrl, {
      method: 'POST',
      headers: { ...rt.config.headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(rt.config.exportTimeoutMs),
    })
    await res.arrayBuffer().catch(() => undefined)
    if (res.ok) return true
    diag.stats.scoreFailures++
    diag.warnOnce(`score rejected by ${rt.config.scoresUrl}: HTTP ${res.status}`)
    return false
  } catch (err) {
    diag.stats.scoreFailures++
    diag.warnOnce(`score could not be sent: ${describe(err)}`)
    return false
  }
}

function validate(input: ScoreInput): boolean {
  if (typeof input !== 'object' || input === null) return false
  if (typeof input.traceId !== 'string' || !/^[0-9a-fA-F]{32}$/.test(input.traceId)) return false
  if (input.spanId !== undefined && (typeof input.spanId !== 'string' || !/^[0-9a-fA-F]{16}$/.test(input.spanId))) return false
  if (typeof input.name !== 'string' || input.name.length === 0) return false
  if (input.timestamp !== undefined) {
    const ts = input.timestamp instanceof Date ? input.timestamp.getTime() : input.timestamp
    if (typeof ts !== 'number' || !Number.isFinite(ts) || Number.isNaN(new Date(ts).getTime())) return false
  }
  const t = typeof input.value
  return (t === 'number' && Number.isFinite(input.value)) || t === 'string' || t === 'boolean'
}
