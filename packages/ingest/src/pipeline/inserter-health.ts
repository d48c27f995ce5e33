import { secondsFailing, type FailingSegment } from './failing-segments.js'
import { publicFailureText, type InsertFailure } from './insert-errors.js'

/** Failing without a success for this long, the inserter is reported stuck (/readyz). */
const STUCK_AFTER_MS = 60_000
/** Segments /readyz lists by name: the oldest failures, which an operator looks at first. */
const LISTED_FAILING = 10

export interface InserterHealth {
  state: 'ok' | 'retrying' | 'stuck'
  /** Seconds since inserts started failing without a success in between. */
  failingForSeconds: number
  /** The last failure as /readyz, which takes no key, may show it (publicFailureText). */
  lastError: string | null
  pending: number
  /** Segments whose inserts failed since their last attempt succeeded, and the oldest few of them. */
  failingSegments: number
  /** Each with its last error as /readyz may show it (publicFailureText); the admin route lists the whole text. */
  oldestFailing: Array<Omit<FailingSegment, 'firstFailedAt' | 'lastFailedAt' | 'lastErrorShown'> & { failingForSeconds: number }>
}

export interface InserterState {
  /** When inserts started failing (undefined while they succeed). */
  failingSince: number | undefined
  lastFailure: InsertFailure | undefined
  /** Segments queued, being inserted or waiting out a backoff. */
  pending: number
  /** Every segment failing now, the oldest failure first. */
  failing: FailingSegment[]
}

/** The inserter as /readyz shows it. */
export function inserterHealth({ failingSince, lastFailure, pending, failing }: InserterState, now: number): InserterHealth {
  const failingFor = failingSince === undefined ? 0 : now - failingSince
  return {
    state: failingSince === undefined ? 'ok' : failingFor >= STUCK_AFTER_MS ? 'stuck' : 'retrying',
    failingForSeconds: failingFor / 1000,
    lastError: lastFailure ? publicFailureText(lastFailure) : null,
    pending,
    failingSegments: failing.length,
    oldestFailing: failing.slice(0, LISTED_FAILING).map(({ firstFailedAt, lastFailedAt: _, lastError: _whole, lastErrorShown, ...rest }) => ({
      ...rest,
      lastError: lastErrorShown,
      failingForSeconds: secondsFailing(firstFailedAt, now),
    })),
  }
}
