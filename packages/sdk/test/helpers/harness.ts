import { afterAll, afterEach, beforeAll } from 'vitest'
import { init, shutdown, type InitOptions } from '../../src/index.js'
import { startLlmServer, type LlmServer } from '@spanlens/fake-llm'
import { startReceiver, type Receiver, type ReceivedSpan } from './receiver.js'

export interface Harness {
  llm: LlmServer
  receiver: Receiver
  /** init() pointed at the receiver, fast flushing, no exit hooks, no ambient env. */
  start(options?: InitOptions): void
}

/** Starts the fake LLM server and OTLP receiver once per file; shuts the SDK down after each test. */
export function useHarness(): Harness {
  const h = {} as Harness
  beforeAll(async () => {
    h.llm = await startLlmServer()
    h.receiver = await startReceiver()
  })
  afterEach(async () => {
    await shutdown()
    h.receiver.reset()
  })
  afterAll(async () => {
    await h.llm?.close()
    await h.receiver?.close()
  })
  h.start = (options = {}) =>
    init({ endpoint: h.receiver.url, apiKey: 'sl_test_key', flushIntervalMs: 20, flushOnExit: false, env: {}, serviceName: 'sdk-tests', ...options })
  return h
}

export function byName(spans: ReceivedSpan[], name: string): ReceivedSpan {
  const s = spans.find((x) => x.name === name)
  if (!s) throw new Error(`no span named ${name}; have ${spans.map((x) => x.name).join(', ')}`)
  return s
}

export function json(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v
}
