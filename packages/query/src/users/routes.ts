import type { ClickHouseClient } from '@clickhouse/client'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { errors } from '../errors.js'
import { labelParam } from '../ids.js'
import { invalidFields } from '../params.js'
import { checkBucketCount, parseBucketSeconds, parseTime } from '../time.js'
import { userSummary } from './user.js'

export interface UsersRoutesOptions {
  client: ClickHouseClient
  /** Runs the store work in the caller project's turn (routes/index.ts, admission.ts). */
  admitted: <T>(request: FastifyRequest, work: (project: string) => Promise<T>) => Promise<T>
}

const MAX_BUCKETS = 1000

const query = z
  .object({
    from: z.string().default('now-30d'),
    to: z.string().default('now'),
    bucket: z.string().default('1d'),
  })
  .strict()

/** GET /users/:userId under the API prefix: a user's calls, cost, errors and feedback over time, and sessions (docs/api.md#sessions-and-users). */
export const usersRoutes: FastifyPluginAsync<UsersRoutesOptions> = async (app, { client, admitted }) => {
  app.get<{ Params: { userId: string } }>('/users/:userId', { config: { query: { names: Object.keys(query.shape) } } }, async (request) => {
    const userId = labelParam('userId', request.params.userId)
    const parsed = query.safeParse(request.query ?? {})
    if (!parsed.success) throw invalidFields(parsed.error)
    const now = new Date()
    const from = parseTime(parsed.data.from, 'from', now)
    const to = parseTime(parsed.data.to, 'to', now)
    if (from >= to) throw errors.BAD_REQUEST('from: must be before to')
    // The series reads spans: any whole number of seconds is a bucket it can count exactly.
    const bucketSeconds = parseBucketSeconds(parsed.data.bucket, 'bucket')
    checkBucketCount(parsed.data.bucket, bucketSeconds, from.getTime(), to.getTime(), MAX_BUCKETS)
    return admitted(request, (project) => userSummary(client, project, userId, { from, to, bucketSeconds }))
  })
}
