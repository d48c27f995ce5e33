import { describe, expect, it } from 'vitest'
import { storeRefusal } from '../src/store/refusal.js'

/** What clickhouse-js throws for a ClickHouse exception: its message, numeric code and type. */
function clickHouseError(type: string, message: string): Error {
  return Object.assign(new Error(message), { code: '0', type })
}

describe('a store that answers no at start is not called unreachable', () => {
  it('names SPANLENS_CLICKHOUSE_USER and SPANLENS_CLICKHOUSE_PASSWORD for a login it did not accept', () => {
    const err = storeRefusal('http://ch:8123/', clickHouseError('AUTHENTICATION_FAILED', 'spanlens: Authentication failed: password is incorrect'), {})
    expect(err).toMatchObject({ code: 'SPANLENS_STORE_REFUSED' })
    expect(err?.message).toMatch(/ClickHouse at http:\/\/ch:8123\/ refused Spanlens: .*SPANLENS_CLICKHOUSE_USER and SPANLENS_CLICKHOUSE_PASSWORD/)
  })

  it('quotes the grant ClickHouse says is missing, and where it was needed', () => {
    const cause = clickHouseError('ACCESS_DENIED', "ro: Not enough privileges. To execute this query, it's necessary to have the grant CREATE TABLE ON db.t.")
    const err = storeRefusal('http://ch:8123/', cause, { where: '001_spans.sql' })
    expect(err).toMatchObject({ code: 'SPANLENS_STORE_REFUSED', cause })
    expect(err?.message).toMatch(/SPANLENS_CLICKHOUSE_USER.*001_spans.sql: ro: Not enough privileges.*CREATE TABLE ON db\.t/)
  })

  it('names SPANLENS_CLICKHOUSE_CLUSTER for a cluster the server does not know', () => {
    const err = storeRefusal('http://n1:8123/', clickHouseError('CLUSTER_DOESNT_EXIST', "Requested cluster 'spanlenz' not found."), { cluster: 'spanlenz' })
    expect(err).toMatchObject({ code: 'SPANLENS_STORE_REFUSED' })
    expect(err?.message).toMatch(/cluster spanlenz .*SPANLENS_CLICKHOUSE_CLUSTER/)
  })

  it('points a cluster without distributed DDL to SPANLENS_CLICKHOUSE_NODES', () => {
    const err = storeRefusal('http://n1:8123/', clickHouseError('QUERY_IS_PROHIBITED', 'Replicated DDL queries are disabled'), { cluster: 'spanlens' })
    expect(err).toMatchObject({ code: 'SPANLENS_STORE_REFUSED' })
    expect(err?.message).toMatch(/SPANLENS_CLICKHOUSE_NODES/)
  })

  it('leaves a network failure, a timeout and any other ClickHouse error to the caller', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' })
    expect(storeRefusal('http://ch:8123/', refused, {})).toBeUndefined()
    expect(storeRefusal('http://ch:8123/', new Error('Timeout error.'), {})).toBeUndefined()
    expect(storeRefusal('http://ch:8123/', clickHouseError('UNKNOWN_TABLE', 'Table x does not exist'), {})).toBeUndefined()
    // Prohibited without a cluster configured is not about distributed DDL.
    expect(storeRefusal('http://ch:8123/', clickHouseError('QUERY_IS_PROHIBITED', 'no'), {})).toBeUndefined()
  })
})
