import { rmSync } from 'node:fs'
import koffi from 'koffi'
import { libchdbPath } from 'chdb/libchdb'
import { ENGINE_EXIT, type EngineSpec } from './engine-args.js'
import { httpOnce } from './http-once.js'
import { startNativeThread } from './native-thread.js'

const STOP_RETRY_MS = 200
/**
 * With the supervisor gone nobody will SIGKILL an engine whose HTTP listener never comes
 * up (its stop request has nowhere to go): after this many refused attempts, 10 s, the
 * process exits and the ports and data-directory lock go with it.
 */
const ORPHAN_STOP_ATTEMPTS = 50

/** The engine process's entry: waits for its spec on the IPC channel, then runs. */
export async function runEngineFromParent(): Promise<number> {
  if (!process.send) {
    process.stderr.write('spanlens engine: started without an IPC channel; it is started by `spanlens clickhouse serve`\n')
    return ENGINE_EXIT.failedToStart
  }
  const spec = await new Promise<EngineSpec>((resolve) => process.once('message', (m) => resolve(m as EngineSpec)))
  try {
    return await runEngine(spec)
  } finally {
    // Also done by the supervisor; done here for a supervisor that died first.
    rmSync(spec.runtimeDir, { recursive: true, force: true })
  }
}

/**
 * The engine process: runs clickhouse-local with its server listeners inside
 * libchdb until asked to stop. Its event loop only waits: the engine runs on a
 * native thread (native-thread.ts), so signals and the supervisor's IPC
 * channel are still handled here.
 *
 * Stopping: SIGTERM, SIGINT or the supervisor's IPC channel closing (the
 * supervisor died) cancel the blocking statement (KILL QUERY over HTTP, retried
 * until the listener is up); clickhouse-local then returns (its LocalServer
 * shuts the context down: listeners, merges, tables), and the process exits 0.
 * An engine that returns without being asked (it could not bind, lock its
 * directory, or parse its config; ClickHouse wrote why to stderr) exits 3. With the
 * supervisor gone and its stop refused ORPHAN_STOP_ATTEMPTS times, it exits 5.
 */
export async function runEngine(spec: EngineSpec): Promise<number> {
  let thread
  try {
    const path = libchdbPath()
    // Signals stay with Node: ClickHouse's handlers would take SIGTERM/SIGINT from this process.
    koffi.load(path).func('void chdb_set_signal_handlers_enabled(int enabled)')(0)
    thread = startNativeThread(path, 'chdb_query_cmdline', spec.argv)
  } catch (err) {
    process.stderr.write(`spanlens engine: ${(err as Error).message}\n`)
    return ENGINE_EXIT.failedToStart
  }
  let stopRequested = false
  let returned = false
  let orphanFailures = 0
  const requestStop = () => {
    if (stopRequested) return
    stopRequested = true
    const attempt = () => {
      if (returned) return
      void sendStop(spec.stop).then((sent) => {
        if (sent) return
        if (!process.connected && ++orphanFailures >= ORPHAN_STOP_ATTEMPTS) {
          process.stderr.write(`spanlens engine: supervisor gone and the stop request refused ${orphanFailures} times: exiting\n`)
          rmSync(spec.runtimeDir, { recursive: true, force: true })
          process.exit(ENGINE_EXIT.abandoned)
        }
        setTimeout(attempt, STOP_RETRY_MS).unref()
      })
    }
    attempt()
  }
  process.on('SIGTERM', requestStop)
  process.on('SIGINT', requestStop)
  process.on('disconnect', requestStop)
  await thread.returned
  returned = true
  return stopRequested ? ENGINE_EXIT.stopped : ENGINE_EXIT.returnedOnItsOwn
}

/** False while the listener is not up yet (the engine is still starting). */
async function sendStop(stop: EngineSpec['stop']): Promise<boolean> {
  try {
    const res = await httpOnce(stop.url, {
      method: 'POST',
      body: stop.sql,
      headers: { 'X-ClickHouse-User': stop.username, 'X-ClickHouse-Key': stop.password },
      timeoutMs: 10_000,
    })
    return res.status === 200
  } catch {
    return false
  }
}
