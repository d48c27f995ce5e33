import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { PriceTable } from '../src/normalize/cost.js'
import { normalizeSpan } from '../src/normalize/normalize.js'
import { decodeLogsProtobuf } from '../src/otlp/decode-logs.js'
import { decodeProtobuf } from '../src/otlp/decode.js'
import { buildServer } from '../src/server.js'
import { createStore } from '../src/store/index.js'
import { faultyStore } from './helpers/faulty-store.js'
import { logsJson } from './helpers/otlp-logs.js'
import { KEYS } from './helpers/server.js'
import { storeEnv } from './helpers/store-mode.js'
import { tempDir } from './helpers/tmp.js'

/**
 * Spans and their GenAI logs arrive in separate requests, in any order, possibly
 * minutes apart with a restart in between: nothing about attaching content lives in
 * the server's memory. Several servers one after another on one data directory
 * (embedded ClickHouse allows one per process at a time).
 */

const fixture = (path: string) => readFileSync(new URL(`./fixtures/otlp/${path}`, import.meta.url))
const PROTOBUF = 'application/x-protobuf'
const env = (dir: string, extra: Record<string, string> = {}) =>
  loadConfig({ env: { SPANLENS_DATA_DIR: dir, ...storeEnv(dir), SPANLENS_API_KEYS: `acme:${KEYS.acme}`, SPANLENS_LOG_LEVEL: 'silent', SPANLENS_RETENTION_DAYS: '0', ...extra } })
const post = (url: string, path: string, body: Uint8Array | string, type = PROTOBUF) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type, authorization: `Bearer ${KEYS.acme}` }, body })
const listen = async (app: FastifyInstance) => app.listen({ host: '127.0.0.1', port: 0 })

interface ApiSpan {
  spanId: string
  input?: string
  output?: string
  finishReason: string
  children: ApiSpan[]
}
const flat = (nodes: ApiSpan[]): ApiSpan[] => nodes.flatMap((n) => [n, ...flat(n.children)])

describe('GenAI content across a restart', () => {
  it('logs acknowledged while ClickHouse was down replay after a restart; spans sent later show their content; a retried export adds nothing', async () => {
    const dir = tempDir()
    try {
      // 1. The logs arrive first and are acknowledged from the spool while inserts fail.
      const config = env(dir.path)
      const store = faultyStore(await createStore(config.store))
      store.fault = 'down'
      const first = await buildServer(config, { store, shutdownTimeoutMs: 300 })
      try {
        expect((await post(await listen(first), '/v1/logs', fixture('otel-genai/tool-call.logs.pb'))).status).toBe(200)
        expect(store.insertedRows).toEqual([])
      } finally {
        await first.close()
        await store.close()
      }

      // 2. A new server replays them; the spans come to it later.
      const second = await buildServer(env(dir.path))
      try {
        const url = await listen(second)
        expect((await post(url, '/v1/traces', fixture('otel-genai/tool-call.pb'))).status).toBe(200)
        // The exporter retries the logs export whose reply it never saw.
        expect((await post(url, '/v1/logs', fixture('otel-genai/tool-call.logs.pb'))).status).toBe(200)
        await second.spanlens.flush()
        const rs = await second.spanlens.store.client.query({ query: "SELECT count() AS n FROM logs FINAL WHERE project_id = 'acme'", format: 'JSONEachRow' })
        expect((await rs.json<{ n: string | number }>()).map((r) => Number(r.n))).toEqual([6])

        const records = decodeLogsProtobuf(fixture('otel-genai/tool-call.logs.pb')).records
        for (const span of decodeProtobuf(fixture('otel-genai/tool-call.pb')).spans) {
          // As if the library had put its events on the span (otlp-logs.test.ts checks every scenario this way).
          const events = records
            .filter((r) => r.spanId === span.spanId)
            .map((r) => ({ timeNs: r.timeNs, name: String(r.attributes['event.name']), attributes: { 'gen_ai.event.content': JSON.stringify(r.body) } }))
          const want = normalizeSpan({ ...span, events }, 'acme', { prices: PriceTable.load() })
          const res = await fetch(`${url}/api/v1/traces/${span.traceId}`, { headers: { authorization: `Bearer ${KEYS.acme}` } })
          const got = flat(((await res.json()) as { roots: ApiSpan[] }).roots).find((s) => s.spanId === span.spanId) as ApiSpan
          expect({ input: got.input, output: got.output, finish_reason: got.finishReason }).toEqual({ input: want.input, output: want.output, finish_reason: want.finish_reason })
          expect(JSON.parse(got.input ?? '[]').length).toBeGreaterThan(0)
        }
      } finally {
        await second.close()
      }

      // 3. Retention applies to log records as to spans.
      const third = await buildServer(env(dir.path, { SPANLENS_RETENTION_DAYS: '7' }))
      try {
        const old = `${Date.now() - 30 * 86_400_000}000000`
        const res = await post(await listen(third), '/v1/logs', JSON.stringify(logsJson([{ body: 'old', timeNs: old }, { body: 'new' }])), 'application/json')
        const body = (await res.json()) as { partialSuccess: { rejectedLogRecords: string; errorMessage: string } }
        expect(body.partialSuccess.rejectedLogRecords).toBe('1')
        expect(body.partialSuccess.errorMessage).toContain('7-day retention')
      } finally {
        await third.close()
      }
    } finally {
      dir.cleanup()
    }
  })
})
