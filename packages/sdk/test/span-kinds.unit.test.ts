import { describe, expect, it } from 'vitest'
import { SPAN_KINDS, type SpanKind } from '../../query/src/span-kinds.js'
import { OPERATION_FOR_KIND, type SpanKindName } from '../src/attributes.js'

// The SDK ships without the server, so it keeps its own kinds; they must be the
// server's (a kind the server does not know would be stored as `other`).
type Within<A, B> = [A] extends [B] ? true : false
const sdkKindsAreServerKinds: Within<SpanKindName, SpanKind> = true

describe('span kinds', () => {
  it("observe() offers every kind the server stores except `other`, which is the server's fallback", () => {
    expect(sdkKindsAreServerKinds).toBe(true)
    expect(SPAN_KINDS.filter((k) => !(k in OPERATION_FOR_KIND))).toEqual(['other'])
    expect(Object.keys(OPERATION_FOR_KIND).every((k) => (SPAN_KINDS as readonly string[]).includes(k))).toBe(true)
  })
})
