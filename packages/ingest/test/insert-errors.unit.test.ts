import { describe, expect, it } from 'vitest'
import { describeInsertFailure } from '../src/pipeline/insert-errors.js'

describe('insert failures are named by ClickHouse error type', () => {
  it('tells a store-wide failure from bad rows, and "too many parts" from "too many partitions"', () => {
    const ch = (code: number, type: string, message: string) => Object.assign(new Error(message), { code: String(code), type })
    expect(describeInsertFailure(ch(252, 'TOO_MANY_PARTS', 'Too many parts (600). Merges are processing significantly slower than inserts')).kind).toBe('transient')
    expect(describeInsertFailure(ch(252, 'TOO_MANY_PARTS', 'Too many partitions for single INSERT block (more than 100)')).kind).toBe('partitions')
    expect(describeInsertFailure(ch(44, 'ILLEGAL_COLUMN', 'Cannot insert column refusal, because it is MATERIALIZED column')).kind).toBe('store')
    expect(describeInsertFailure(ch(41, 'CANNOT_PARSE_DATETIME', 'Cannot read DateTime')).kind).toBe('data')
    expect(describeInsertFailure(ch(241, 'MEMORY_LIMIT_EXCEEDED', 'Memory limit exceeded')).kind).toBe('transient')
    expect(describeInsertFailure(ch(999999, 'SOMETHING_NEW', 'new')).kind).toBe('unknown')
    expect(describeInsertFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' })).kind).toBe('transient')
    // chDB's raw insert: a numeric clickhouseCode and the type at the end of the message.
    const chdb = Object.assign(new Error('Query failed: Code: 407. DB::Exception: Decimal math overflow: While executing ParallelParsingBlockInputFormat. (DECIMAL_OVERFLOW)'), {
      code: 'CHDB_INSERT',
      clickhouseCode: 407,
    })
    expect(describeInsertFailure(chdb)).toMatchObject({ kind: 'data', type: 'DECIMAL_OVERFLOW', code: 407 })
  })
})
