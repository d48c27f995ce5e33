import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createClient, TupleParam, type ClickHouseClient } from '@clickhouse/client'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ParamBag } from '../src/db.js'
import { MAX_PARAM_BYTES, paramBytes } from '../src/query-params.js'

// How many bytes a query parameter takes in the URL clickhouse-js sends: a served ClickHouse
// refuses one past http_max_field_value_size, so arrays are split by this count (db.ts's
// ParamBag, ingest's stored-rows.ts). Compared with what the client really sends, caught by
// a local HTTP server in ClickHouse's place (no engine needed to count bytes).

let server: Server
let client: ClickHouseClient
let lastUrl = ''
beforeAll(async () => {
  // A URL of several parts of 96 KB each: past Node's default 16 KB of headers.
  server = createServer({ maxHeaderSize: 4 << 20 }, (req, res) => {
    lastUrl = req.url ?? ''
    res.writeHead(200, { 'content-type': 'text/plain', 'x-clickhouse-format': 'JSONEachRow' }).end('')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  client = createClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
})
afterAll(async () => {
  await client.close()
  await new Promise((resolve) => server.close(resolve))
})

/** The raw bytes of each `param_*` value in the URL the client sent. */
async function sent(params: Record<string, unknown>): Promise<Record<string, number>> {
  await client.command({ query: 'SELECT 1', query_params: params })
  const out: Record<string, number> = {}
  for (const pair of lastUrl.slice(lastUrl.indexOf('?') + 1).split('&')) {
    const [key, value = ''] = pair.split('=') as [string, string?]
    if (key.startsWith('param_')) out[key.slice('param_'.length)] = value.length
  }
  return out
}

const text = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '-', '_', '.', '*', '~', '!', "'", '"', '\\', '\t', '\n', '\r', ',', '(', ')', '[', ']', '%', '+', '&', '=', 'é', '😀', '\u0000') })

describe('a query parameter takes in the URL', () => {
  it('as many bytes as paramBytes counts, for strings, numbers, arrays and arrays of tuples', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(text, { maxLength: 6 }), fc.array(fc.array(text, { minLength: 1, maxLength: 3 }), { maxLength: 4 }), text, fc.integer(), async (strings, tuples, one, n) => {
        const params = { strings, tuples: tuples.map((t) => new TupleParam(t)), one, n }
        const bytes = await sent(params)
        expect(bytes).toEqual({ strings: paramBytes(strings), tuples: paramBytes(params.tuples), one: paramBytes(one), n: paramBytes(n) })
      }),
      { numRuns: 200 },
    )
  })

  it('within MAX_PARAM_BYTES for each part of an array a ParamBag splits, which keeps every item in order', async () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => i.toString(16).padStart(32, '0'))
    const bag = new ParamBag()
    const sql = bag.add(ids, 'Array(String)')
    const names = Object.keys(bag.values)
    expect(names.length).toBeGreaterThan(1)
    expect(sql).toBe(`arrayConcat(${names.map((p) => `{${p}:Array(String)}`).join(', ')})`)
    expect(names.flatMap((p) => bag.values[p] as string[])).toEqual(ids)
    for (const [p, b] of Object.entries(await sent(bag.values))) expect(b, p).toBeLessThanOrEqual(MAX_PARAM_BYTES)
    // A small array, or a value of another type, stays one parameter.
    const small = new ParamBag()
    expect(small.add(ids.slice(0, 100), 'Array(String)')).toBe('{p0:Array(String)}')
    expect(small.add('x'.repeat(200_000), 'String')).toBe('{p1:String}')
  })
})
