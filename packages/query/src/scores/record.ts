import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { ClickHouseClient } from '../db.js'
import { errors } from '../errors.js'
import { chTime, parseTime } from '../time.js'

/** Exactly what the SDK's score() posts. */
const scoreBodySchema = z
  .object({
    traceId: z.string().regex(/^[0-9a-fA-F]{32}$/, { error: 'expected a 32-hex-digit trace id' }),
    spanId: z.string().regex(/^[0-9a-fA-F]{16}$/, { error: 'expected a 16-hex-digit span id' }).optional(),
    name: z.string().trim().min(1).max(200),
    value: z.union([z.number().finite(), z.string().max(10_000), z.boolean()]),
    comment: z.string().max(100_000).optional(),
    source: z.string().trim().min(1).max(100).optional(),
    id: z.string().trim().min(1).max(200).optional(),
    timestamp: z.union([z.string(), z.number()]).optional(),
  })
  .strict()


export interface RecordedScore {
  id: string
  /** true when the caller chose the id (a re-post replaces the earlier score) */
  idempotent: boolean
}

/** Validates and stores one feedback/evaluation score. Booleans are stored as 1/0 with data_type BOOLEAN. */
export async function recordScore(client: ClickHouseClient, project: string, input: unknown): Promise<RecordedScore> {
  const parsed = scoreBodySchema.safeParse(input)
  if (!parsed.success) throw errors.BAD_REQUEST(`score: ${z.prettifyError(parsed.error)}`)
  const s = parsed.data
  const id = s.id ?? randomUUID()
  const ts = s.timestamp === undefined ? new Date() : parseTime(s.timestamp, 'timestamp')
  const numeric = typeof s.value === 'number' ? s.value : typeof s.value === 'boolean' ? (s.value ? 1 : 0) : null
  await client.insert({
    table: 'scores',
    format: 'JSONEachRow',
    values: [
      {
        project_id: project,
        score_id: id,
        trace_id: s.traceId.toLowerCase(),
        span_id: s.spanId?.toLowerCase() ?? '',
        name: s.name,
        value: numeric,
        string_value: typeof s.value === 'string' ? s.value : '',
        data_type: typeof s.value === 'number' ? 'NUMERIC' : typeof s.value === 'boolean' ? 'BOOLEAN' : 'CATEGORICAL',
        source: s.source ?? 'api',
        comment: s.comment ?? '',
        author: '',
        metadata: {},
        timestamp: chTime(ts),
      },
    ],
  })
  return { id, idempotent: s.id !== undefined }
}
