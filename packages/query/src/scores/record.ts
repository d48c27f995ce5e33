import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { ClickHouseClient } from '../db.js'
import { errors } from '../errors.js'
import { SPAN_ID, TRACE_ID } from '../ids.js'
import { invalidFields } from '../params.js'
import { chTime, parseTime } from '../time.js'
import { LIVE_SCORES } from './live.js'
import { aheadOfClock, MAX_FUTURE_MS, olderThanRetention } from '../time-window.js'

/** Exactly what the SDK's score() posts. */
const scoreBodySchema = z
  .object({
    traceId: TRACE_ID,
    spanId: SPAN_ID.optional(),
    name: z.string().trim().min(1).max(200),
    value: z.union([z.number().finite(), z.string().max(10_000), z.boolean()], {
      error: 'expected a finite number, a string of at most 10,000 characters, or a boolean',
    }),
    comment: z.string().max(100_000).optional(),
    source: z.string().trim().min(1).max(100).optional(),
    id: z.string().trim().min(1).max(200).optional(),
    timestamp: z.union([z.string(), z.number()]).optional(),
  })
  .strict()

export interface ScoreOptions {
  /** SPANLENS_RETENTION_DAYS (0: forever): an older score would be deleted by the table's TTL at once. */
  retentionDays?: number
  /**
   * SPANLENS_REDACT's redactor: a score's comment is the user's own words and a label may
   * quote them, so both are redacted as span content is before they are stored.
   */
  redact?: ((text: string) => string) | undefined
  now?: Date
}

export interface RecordedScore {
  id: string
  /** true when the caller chose the id (a re-post replaces the earlier score) */
  idempotent: boolean
}

/** Validates and stores one feedback/evaluation score. Booleans are stored as 1/0 with data_type BOOLEAN. */
export async function recordScore(client: ClickHouseClient, project: string, input: unknown, opts: ScoreOptions = {}): Promise<RecordedScore> {
  const parsed = scoreBodySchema.safeParse(input)
  if (!parsed.success) throw invalidFields(parsed.error)
  const s = parsed.data
  const id = s.id ?? randomUUID()
  const now = opts.now ?? new Date()
  const ts = s.timestamp === undefined ? now : keptTime(parseTime(s.timestamp, 'timestamp', now), now, opts.retentionDays ?? 0)
  const redact = opts.redact ?? ((text: string) => text)
  const numeric = typeof s.value === 'number' ? s.value : typeof s.value === 'boolean' ? (s.value ? 1 : 0) : null
  const timestamp = chTime(ts)
  // A re-post replaces what its id had, whatever changed: an earlier version under another
  // name or day is not folded by the table's key (clickhouse/012), so it gets a copy marked
  // deleted under its own key. Two re-posts of one id at the same moment can both miss each
  // other's version: the last writer does not win then, both stand.
  const replaced = s.id === undefined ? [] : await earlierVersions(client, project, id, s.name, timestamp)
  await client.insert({
    table: 'scores',
    format: 'JSONEachRow',
    values: [
      ...replaced.map((r) => ({ project_id: project, score_id: id, trace_id: r.trace_id, span_id: r.span_id, name: r.name, timestamp: r.timestamp, deleted: 1 })),
      {
        project_id: project,
        score_id: id,
        trace_id: s.traceId,
        span_id: s.spanId ?? '',
        name: s.name,
        value: numeric,
        string_value: typeof s.value === 'string' ? redact(s.value) : '',
        data_type: typeof s.value === 'number' ? 'NUMERIC' : typeof s.value === 'boolean' ? 'BOOLEAN' : 'CATEGORICAL',
        source: s.source ?? 'api',
        comment: s.comment === undefined ? '' : redact(s.comment),
        author: '',
        metadata: {},
        timestamp,
      },
    ],
  })
  return { id, idempotent: s.id !== undefined }
}

/** The standing versions of score `id` that a new version named `name` at `timestamp` would not fold (another name or day). */
async function earlierVersions(client: ClickHouseClient, project: string, id: string, name: string, timestamp: string) {
  const rs = await client.query({
    query: `SELECT trace_id, span_id, name, toString(timestamp) AS timestamp FROM ${LIVE_SCORES}
            AND project_id = {project:String} AND score_id = {id:String}
            AND NOT (name = {name:String} AND toDate(timestamp) = toDate(toDateTime64({timestamp:String}, 3)))`,
    query_params: { project, id, name, timestamp },
    format: 'JSONEachRow',
  })
  return rs.json<{ trace_id: string; span_id: string; name: string; timestamp: string }>()
}

/**
 * A score's time, refused where the store would not keep it: older than the retention
 * the TTL deletes it at once (a score dated 1970 would be answered 201 and never seen), and
 * far ahead its TTL and partition dates wrap around. The same window as spans' and log
 * records' times (time-window.ts).
 */
function keptTime(ts: Date, now: Date, retentionDays: number): Date {
  if (retentionDays > 0 && ts.getTime() < now.getTime() - retentionDays * 86_400_000) {
    throw errors.BAD_REQUEST(olderThanRetention(`timestamp: ${ts.toISOString()}`, retentionDays))
  }
  if (ts.getTime() > now.getTime() + MAX_FUTURE_MS) throw errors.BAD_REQUEST(aheadOfClock(`timestamp: ${ts.toISOString()}`))
  return ts
}
