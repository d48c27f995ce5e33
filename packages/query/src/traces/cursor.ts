import { errors } from '../errors.js'
import { MAX_TIME_NS } from '../time-window.js'

/** Opaque keyset cursor: the (start time in ns, id) of the last row of the previous page. */
export interface Cursor {
  ns: string
  id: string
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.ns, c.id])).toString('base64url')
}

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (raw === undefined) return undefined
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'))
    // A start past Int64 nanoseconds is no span's: bound as Int64, it would fail the query (502).
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && /^\d{1,19}$/.test(v[0]) && BigInt(v[0]) <= MAX_TIME_NS && typeof v[1] === 'string') {
      return { ns: v[0], id: v[1] }
    }
  } catch {
    // fall through
  }
  throw errors.BAD_REQUEST('cursor: not a cursor returned by this API')
}
