import { describe, expect, it } from 'vitest'
import { costTotal, count, decimal, duration, timestamp, usd } from '../src/format.js'

describe('figures written for people', () => {
  it.each([
    [0, '$0'],
    [3.4e-7, '$0.00000034'],
    [0.000077, '$0.000077'],
    [0.00052194, '$0.00052'],
    [0.0123, '$0.0123'],
    [0.6438, '$0.6438'],
    [0.01, '$0.01'],
    [1, '$1.00'],
    [1234.567, '$1,234.57'],
    [-0.5, '-$0.5'],
    [null, 'unknown'],
    [Number.NaN, 'unknown'],
  ])('money: %s is %s (dollars, never an exponent)', (v, text) => {
    expect(usd(v)).toBe(text)
  })

  it.each([
    [0.0123, false, '$0.0123'],
    [0, false, '$0'],
    [0.0123, true, '≥ $0.0123'],
    [0, true, 'unknown'],
    [null, true, 'unknown'],
    [null, false, 'unknown'],
  ])('a cost total: %s with some calls unpriced (%s) is %s; 0 with some unpriced says nothing, so unknown', (v, incomplete, text) => {
    expect(costTotal(v, incomplete)).toBe(text)
  })

  it.each([
    [0, '0 ms'],
    [0.42, '0.42 ms'],
    [87, '87 ms'],
    [165.4309, '165.4 ms'],
    [999.96, '1000 ms'],
    [2818.9, '2.82 s'],
    [125_000, '2 min 05 s'],
    [3_725_000, '1 h 02 min'],
    [null, '-'],
  ])('durations in one style: %s ms is %s', (v, text) => {
    expect(duration(v)).toBe(text)
  })

  it('times in one format with the zone', () => {
    expect(timestamp('2026-12-04T09:00:00.000Z')).toBe('2026-12-04 09:00:00 UTC')
    expect(timestamp(Date.UTC(2026, 11, 4, 23, 30), 'Europe/Paris')).toBe('2026-12-05 00:30:00 GMT+1')
    expect(timestamp('yesterday')).toBe('yesterday')
    expect(timestamp(null)).toBe('-')
  })

  it('counts and measured quantities', () => {
    expect(count(1975374)).toBe('1,975,374')
    expect(decimal(0.97592329)).toBe('0.9759')
    expect(decimal(3042.5)).toBe('3,042.5')
    expect(decimal(12)).toBe('12')
    expect(decimal(6.17e-59)).toBe('6.17e-59')
    expect(decimal(0.5)).toBe('0.5')
  })
})
