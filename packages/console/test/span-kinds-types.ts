// Compile-time check, run by `tsc` in the test command: the console's copy of the
// span kinds (web/src/api/types.ts, kept apart so the browser bundle needs no
// server code) is exactly @spanlens/query's list. api-types.ts only checks that
// the console accepts what the API sends; this also fails when a kind is dropped.
import type { SpanKind as QueryKind } from '@spanlens/query'
import type { SpanKind as WebKind } from '../web/src/api/types.js'

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
export const spanKindsMatch: Same<WebKind, QueryKind> = true
