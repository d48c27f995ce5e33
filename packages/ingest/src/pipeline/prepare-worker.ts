// Worker thread entry: runs prepare() off the event loop that acknowledges requests.
import { parentPort, workerData } from 'node:worker_threads'
import { PriceTable } from '../normalize/cost.js'
import { createRedactor } from '../normalize/redact.js'
import type { RedactRule } from '../config/schema.js'
import { prepare, type BodyFormat, type PerRequest } from './prepare.js'
import type { Signal } from './signals.js'

interface Job {
  id: number
  signal: Signal
  format: BodyFormat
  body: Uint8Array
  project: string
  request: PerRequest
}

const data = workerData as { pricesFile?: string; redact: RedactRule[]; retentionDays: number; maxRowBytes: number }
const ctx = { prices: PriceTable.load(data.pricesFile), redact: createRedactor(data.redact), retentionDays: data.retentionDays, maxRowBytes: data.maxRowBytes }
const port = parentPort
if (!port) throw new Error('prepare-worker must run in a worker thread')

port.on('message', (job: Job) => {
  try {
    const result = prepare(job.signal, job.format, job.body, job.project, { ...ctx, ...job.request })
    port.postMessage({ id: job.id, result }, [...new Set(result.batches.map((b) => b.payload.buffer as ArrayBuffer))])
  } catch (err) {
    // Plain fields: structured clone keeps an Error's message and stack but drops code and statusCode.
    const e = err as { code?: string; message?: string; statusCode?: number; stack?: string }
    port.postMessage({ id: job.id, error: { code: e.code, message: e.message, statusCode: e.statusCode, stack: e.stack } })
  }
})
