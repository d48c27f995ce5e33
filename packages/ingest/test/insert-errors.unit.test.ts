import { describe, expect, it } from 'vitest'
import { describeInsertFailure, failureText, mayHaveReachedStore, publicFailureText } from '../src/pipeline/insert-errors.js'

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
    // A shard's socket that closed mid-packet during a Distributed insert is the cluster's failure, not the rows'.
    const cut = 'Cannot read all data. Bytes read: 1. Bytes expected: 5: Insertion status:\nWrote 1 blocks and 2 rows on shard 0 replica 0, 127.0.0.1:9000 (average 7 ms per block)\nWrote 0 blocks and 0 rows on shard 1 replica 0, 127.0.0.1:9001 (average 8 ms per block)\n. '
    expect(describeInsertFailure(ch(33, 'CANNOT_READ_ALL_DATA', cut)).kind).toBe('transient')
    expect(describeInsertFailure(ch(32, 'ATTEMPT_TO_READ_AFTER_EOF', 'Attempt to read after eof: while receiving packet from 127.0.0.1:9001')).kind).toBe('transient')
    expect(describeInsertFailure(ch(95, 'CANNOT_READ_FROM_SOCKET', 'Cannot read from socket (peer: 127.0.0.1:9001)')).kind).toBe('transient')
    expect(describeInsertFailure(ch(33, 'CANNOT_READ_ALL_DATA', 'Cannot read all data. Bytes read: 3. Bytes expected: 8.: (at row 1)')).kind).toBe('data')
    // chDB's raw insert: a numeric clickhouseCode and the type at the end of the message.
    const chdb = Object.assign(new Error('Query failed: Code: 407. DB::Exception: Decimal math overflow: While executing ParallelParsingBlockInputFormat. (DECIMAL_OVERFLOW)'), {
      code: 'CHDB_INSERT',
      clickhouseCode: 407,
    })
    expect(describeInsertFailure(chdb)).toMatchObject({ kind: 'data', type: 'DECIMAL_OVERFLOW', code: 407 })
  })
})

describe('what /readyz, which takes no key, shows of a failure', () => {
  it("names ClickHouse's type and code without its message, which quotes a row it could not parse (any project's content)", () => {
    const parse = Object.assign(new Error("Code: 27. DB::Exception: Cannot parse input: expected '\"' before: 'my card is 4111 1111': (at row 1). (CANNOT_PARSE_INPUT_ASSERTION_FAILED)"), {
      code: '27',
      type: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
    })
    const f = describeInsertFailure(parse)
    expect(publicFailureText(f)).toBe('CANNOT_PARSE_INPUT_ASSERTION_FAILED (27)')
    expect(failureText(f)).toContain('my card is')
  })

  it('keeps the message of a failure without a ClickHouse code: an address, no data', () => {
    const refused = describeInsertFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' }))
    expect(publicFailureText(refused)).toBe(failureText(refused))
    expect(publicFailureText(refused)).toContain('ECONNREFUSED 127.0.0.1:8123')
  })
})

describe('a store having a bad time is never taken for bad rows', () => {
  const ch = (code: number, type: string) => Object.assign(new Error(`Code: ${code}. DB::Exception: injected. (${type})`), { code: String(code), type })

  it('retries a spent quota, a workload limit and a failing disk as passing failures of the store', () => {
    for (const [code, type] of [
      [201, 'QUOTA_EXCEEDED'],
      [776, 'RESOURCE_LIMIT_EXCEEDED'],
      [778, 'MEMORY_RESERVATION_FAILED'],
      [204, 'CANNOT_FSYNC'],
      [294, 'CANNOT_WRITE_TO_FILE'],
      [439, 'CANNOT_SCHEDULE_TASK'],
      [733, 'TABLE_IS_BEING_RESTARTED'],
      [735, 'QUERY_WAS_CANCELLED_BY_CLIENT'],
    ] as const) {
      expect(describeInsertFailure(ch(code, type)), type).toMatchObject({ kind: 'transient', type })
    }
  })

  it('retries a login or a right taken away while the server runs as the store refusing every row', () => {
    for (const [code, type] of [
      [193, 'WRONG_PASSWORD'],
      [195, 'IP_ADDRESS_NOT_ALLOWED'],
      [720, 'USER_EXPIRED'],
      [291, 'DATABASE_ACCESS_DENIED'],
      [452, 'SETTING_CONSTRAINT_VIOLATION'],
      [774, 'TABLE_IS_PERMANENTLY_READ_ONLY'],
    ] as const) {
      expect(describeInsertFailure(ch(code, type)), type).toMatchObject({ kind: 'store', type })
    }
  })
})

describe('a failed insert may have reached ClickHouse unless the connection was refused', () => {
  it('counts a refused connection, itself or as the cause of the client\'s error, as not sent, and every other failure as maybe stored', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' })
    expect(mayHaveReachedStore(refused)).toBe(false)
    expect(mayHaveReachedStore(new Error('request failed', { cause: refused }))).toBe(false)
    expect(mayHaveReachedStore(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true)
    expect(mayHaveReachedStore(Object.assign(new Error('Timeout error.'), { code: 'ETIMEDOUT' }))).toBe(true)
    expect(mayHaveReachedStore(Object.assign(new Error('Code: 241. Memory limit exceeded'), { code: '241', type: 'MEMORY_LIMIT_EXCEEDED' }))).toBe(true)
    expect(mayHaveReachedStore('a string')).toBe(true)
    expect(mayHaveReachedStore(undefined)).toBe(true)
  })
})
