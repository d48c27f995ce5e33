import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import type { RedactRule } from '../config/schema.js'
import { errors, SpanlensError } from '../errors.js'
import type { BodyFormat, PerRequest, Prepared } from './prepare.js'
import type { Signal } from './signals.js'

/** tsx's ESM register API, found from this package (source runs only; tsx is a dev dependency). */
function tsxEsmApi(): string {
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json')
  return pathToFileURL(join(dirname(pkg), 'dist/esm/api/index.mjs')).href
}

/** An error thrown in the worker, as prepare-worker.ts posts it (structured clone drops an Error's own fields). */
interface WorkerError {
  code?: string
  message?: string
  statusCode?: number
  stack?: string
}

/**
 * A worker's error on this side: ours keep code, status and message; anything
 * else was a bug in the worker, a 500 whose cause carries the worker's stack.
 */
function fromWorker(e: WorkerError | undefined): SpanlensError {
  if (typeof e?.code === 'string' && typeof e.statusCode === 'number') return new SpanlensError(e.code, e.message ?? '', e.statusCode)
  const cause = Object.assign(new Error(e?.message ?? 'unknown error'), { stack: e?.stack })
  return errors.INTERNAL('ingest worker failed', { cause })
}

interface Pending {
  resolve: (p: Prepared) => void
  reject: (e: Error) => void
}

interface Slot {
  worker: Worker
  pending: Map<number, Pending>
}

/**
 * A few worker threads running decode → normalize → encode, so the event loop
 * only reads bodies, spools and acknowledges: ~6 ms of CPU per 100-span request
 * on the loop made bursts of requests queue behind each other (bench/README.md).
 */
export class PreparePool {
  private readonly slots: Slot[] = []
  private nextId = 0
  private closed = false

  constructor(
    size: number,
    private readonly data: { pricesFile?: string | undefined; redact: RedactRule[]; retentionDays: number; maxRowBytes: number },
    private readonly log: Logger,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn())
  }

  private spawn(): Slot {
    // Built: dist/pipeline/prepare-worker.js beside dist/<chunk>.js. From source
    // (tests, tsx): the .ts file next to this one, loaded through tsx.
    const js = new URL('./pipeline/prepare-worker.js', import.meta.url)
    const ts = new URL('./prepare-worker.ts', import.meta.url)
    const fromSource = import.meta.url.endsWith('.ts') && existsSync(fileURLToPath(ts))
    const worker = fromSource
      ? // A worker's entry is loaded before `--import` hooks apply, so register tsx first.
        new Worker(
          `import(${JSON.stringify(tsxEsmApi())})` +
            `.then((tsx) => { tsx.register(); return import(${JSON.stringify(ts.href)}) })`,
          { eval: true, workerData: this.data, execArgv: ['--conditions=@spanlens/source'] },
        )
      : new Worker(js, { workerData: this.data })
    const slot: Slot = { worker, pending: new Map() }
    worker.unref()
    worker.on('message', (msg: { id: number; result?: Prepared; error?: WorkerError }) => {
      const p = slot.pending.get(msg.id)
      if (!p) return
      slot.pending.delete(msg.id)
      if (msg.result) p.resolve(msg.result)
      else p.reject(fromWorker(msg.error))
    })
    const fail = (err: Error) => {
      for (const p of slot.pending.values()) p.reject(errors.INTERNAL(`ingest worker failed: ${err.message}`, { cause: err }))
      slot.pending.clear()
      if (this.closed) return
      this.log.error({ err }, 'ingest worker died; starting a new one')
      const idx = this.slots.indexOf(slot)
      if (idx >= 0) this.slots[idx] = this.spawn()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => {
      if (!this.closed && code !== 0) fail(new Error(`exit code ${code}`))
    })
    return slot
  }

  run(signal: Signal, format: BodyFormat, body: Buffer, project: string, request: PerRequest): Promise<Prepared> {
    let slot = this.slots[0] as Slot
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject })
      slot.worker.postMessage({ id, signal, format, body, project, request })
    })
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.slots.map((s) => s.worker.terminate()))
  }
}
