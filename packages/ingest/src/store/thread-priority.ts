import { readdirSync, readFileSync } from 'node:fs'
import { setPriority } from 'node:os'

/**
 * Embedded ClickHouse runs its parsing, insert and merge threads inside this
 * process, on the same cores as the event loop that acknowledges requests. On a
 * small machine an insert or a merge holds every core for a while, and the event
 * loop, runnable, waits its turn: that wait is most of the acknowledgement tail
 * (bench/README.md). Giving ClickHouse's threads a higher nice value lets the
 * kernel run the event loop first whenever it has work; ClickHouse still gets
 * every cycle the event loop does not use. It is what ClickHouse's own
 * `os_thread_priority` does for queries, applied to all of its threads.
 *
 * Node names its threads (event loop, libuv pool, V8 helpers, worker threads)
 * "node"; ClickHouse names each of its own (ThreadPool, MergeMutate, BgSchPool,
 * ...). So every thread of this process with another name is ClickHouse's. Pools
 * grow on demand, hence the rescan. Linux only (per-thread nice values).
 *
 * One overlap: chdb runs each query on a libuv pool thread, and after an insert
 * that thread is named "Unknown", so it is lowered too. That is mostly right
 * (the insert's parsing runs on it: the largest single share of chDB's CPU in
 * the bench), but the spool's writes share those threads. A thread of their own
 * at the event loop's priority does not lower the paced tail (bench/README.md,
 * "where the paced tail comes from"): the write itself takes 1-12 ms; the wait is
 * for the event loop to pick up its completion.
 *
 * Returns a function that stops the rescan.
 */
export function lowerForeignThreadPriority(nice: number, rescanMs = 1000): () => void {
  if (nice <= 0 || process.platform !== 'linux') return () => undefined
  const done = new Set<number>()
  const scan = () => {
    let tids: string[]
    try {
      tids = readdirSync('/proc/self/task')
    } catch {
      return
    }
    const present = new Set<number>()
    for (const entry of tids) {
      const tid = Number(entry)
      present.add(tid)
      if (done.has(tid) || tid === process.pid) continue
      let name: string
      try {
        name = readFileSync(`/proc/self/task/${entry}/comm`, 'utf8').trim()
      } catch {
        continue // the thread just ended
      }
      // Not marked done: a thread ClickHouse started may not have its name yet.
      if (name === 'node') continue
      try {
        setPriority(tid, nice)
      } catch {
        // Gone, or not allowed: nothing to do either way.
      }
      done.add(tid)
    }
    for (const tid of done) if (!present.has(tid)) done.delete(tid)
  }
  scan()
  const timer = setInterval(scan, rescanMs)
  timer.unref()
  return () => clearInterval(timer)
}
