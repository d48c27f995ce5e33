import { describe, expect, it } from 'vitest'
import { usd } from '../web/src/format.js'

describe('costs in the console', () => {
  it('marks a total some calls lack a price for as a lower bound, and one of 0 so as unknown (traces, trace, session and user pages)', () => {
    expect(usd(0.0123)).toBe('$0.0123')
    expect(usd(0)).toBe('$0')
    expect(usd(0.0123, true)).toBe('≥ $0.0123')
    expect(usd(0, true)).toBe('unknown')
    expect(usd(null)).toBe('unknown')
  })
})
