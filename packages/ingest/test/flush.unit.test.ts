import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { createMetrics } from '../src/metrics.js'
import { IngestPipeline } from '../src/pipeline/ingest.js'
import type { Store } from '../src/store/index.js'
import { tempDir } from './helpers/tmp.js'

// What flush() waits for, on a clock that does not move: the spool on disk is real,
// the store answers as told (its real recoveries are in durability.test.ts).

/** Lets real I/O and promises run until `done`, the fake clock standing still. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setImmediate(r))
}

describe('flush', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('retries a segment waiting out its backoff at once, instead of after the wait', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
    const dir = tempDir()
    let down = true
    let attempts = 0
    const store = {
      cluster: undefined,
      insertFile: async () => {
        attempts++
        if (down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' })
      },
    } as unknown as Store
    const config = loadConfig({ env: { SPANLENS_DATA_DIR: dir.path, SPANLENS_LOG_LEVEL: 'silent' } })
    const pipeline = new IngestPipeline(config.ingest, store, createMetrics(), pino({ level: 'silent' }))
    try {
      pipeline.start()
      await pipeline.spool.append(Buffer.from('row\n'), 1)
      await pipeline.spool.sealActive()
      await until(() => attempts > 0)
      expect(attempts).toBe(1)
      // The store is back; a backoff timer is pending and the clock will not move: a flush
      // that waited for the timer would never end (the test's timeout says so).
      down = false
      await pipeline.flush()
      expect(attempts).toBe(2)
      expect(pipeline.spool.segments).toBe(0)
    } finally {
      await vi.runOnlyPendingTimersAsync()
      await pipeline.stop(0)
      dir.cleanup()
    }
  })
})
