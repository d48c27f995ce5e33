import type { ChildProcessWithoutNullStreams, ChildProcess } from 'node:child_process'
import { jsonRequest } from './otlp.js'
import { bearer } from './server.js'

/** Resolves with the first match of `pattern` (its first group) in the child's stdout; rejects if it exits first. */
export function waitForOutput(child: ChildProcess & { stdout: ChildProcessWithoutNullStreams['stdout'] }, pattern: RegExp): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString()
      const m = pattern.exec(out)
      if (m) resolve(m[1] as string)
    })
    child.once('exit', (code) => reject(new Error(`server exited early (${code})`)))
  })
}

/**
 * `clients` senders post `spans`-span requests named `name` to `url` in a loop,
 * the server is killed with SIGKILL after `runMs`, and the span ids it
 * acknowledged (200) are returned: what a restart must still have, once.
 */
export async function ackedUntilKilled(
  child: ChildProcess,
  url: string,
  opts: { key: string; name: string; clients: number; spans: number; runMs?: number },
): Promise<Set<string>> {
  const acked = new Set<string>()
  let stop = false
  const senders = Array.from({ length: opts.clients }, async () => {
    while (!stop) {
      const body = jsonRequest(Array.from({ length: opts.spans }, () => ({ name: opts.name })))
      const ids = ((body.resourceSpans as Array<{ scopeSpans: Array<{ spans: Array<{ spanId: string }> }> }>)[0]?.scopeSpans[0]?.spans ?? []).map((s) => s.spanId)
      try {
        const res = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(opts.key) }, body: JSON.stringify(body) })
        await res.arrayBuffer()
        if (res.status === 200) for (const id of ids) acked.add(id)
      } catch {
        return // the server is gone
      }
    }
  })
  await new Promise((r) => setTimeout(r, opts.runMs ?? 1500))
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGKILL')
  stop = true
  await Promise.all(senders)
  await exited
  return acked
}
