/**
 * The SDK's cost counted in instructions, which the host's load does not change (on a loaded 2-core host
 * two copies of one build differ by ~150 µs of CPU per call in app.ts). Each variant runs in its own
 * process under `valgrind --tool=cachegrind --cache-sim=no` (the LLM fixture and a receiver that only
 * reads stay outside it), twice: after `--warmup` calls, 1 more call, and `--calls` more; per call is the
 * difference divided by `--calls` − 1, so start-up and warm-up cancel. Needs valgrind; ~10 minutes per
 * variant at the defaults (a call runs ~100× slower under it). Plain calls only. Prints each variant's
 * instructions per call and, with `--by-function`, the added instructions by V8 part.
 *
 *   cd bench && node --import tsx sdk/instructions.ts [--variants bare,spanlens,spanlens-<tag>] [--warmup 1500] [--calls 300] [--node-flags '--single-threaded'] [--by-function]
 */
import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { request, startLlmProcess } from './fixture.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const args = process.argv.slice(2)
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? (args[i + 1] ?? dflt) : dflt
}
const VARIANTS = opt('variants', 'bare,spanlens').split(',')
const WARMUP = Number(opt('warmup', '1500'))
const CALLS = Number(opt('calls', '300'))
// Extra node flags for each worker, e.g. '--single-threaded': V8 compiles and collects on the main thread, so
// the counts no longer depend on when background jobs finish (they moved one build by 0.7 M between runs).
const NODE_FLAGS = opt('node-flags', '').split(' ').filter(Boolean)

const llm = await startLlmProcess(600_000)
const receiver = createServer((req, res) => {
  req.resume()
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end())
})
// Under valgrind a call takes tens of ms: keep idle sockets open longer than Node's 5 s default.
receiver.keepAliveTimeout = 600_000
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()))
const receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`

/** Per function name, instructions (cachegrind's Ir). */
function byFunction(file: string): Map<string, number> {
  const out = new Map<string, number>()
  let fn = ''
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('fn=')) fn = line.slice(3)
    else if (/^\d/.test(line)) out.set(fn, (out.get(fn) ?? 0) + Number(line.split(' ')[1] ?? 0))
  }
  return out
}

async function run(variant: string, calls: number): Promise<Map<string, number>> {
  const file = join(tmpdir(), `spanlens-instructions-${process.pid}-${variant}-${calls}.out`)
  const child = spawn('valgrind', ['--tool=cachegrind', '--cache-sim=no', `--cachegrind-out-file=${file}`, '--smc-check=all-non-file', process.execPath, ...NODE_FLAGS, join(here, 'instructions-worker.mjs'), variant, llm.url, receiverUrl, String(WARMUP), String(calls), JSON.stringify(request('plain'))], { cwd: join(here, '..'), stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const code = await new Promise<number | null>((r) => child.on('exit', r))
  if (code !== 0) throw new Error(`${variant} under valgrind exited with ${code}:\n${err.slice(-2000)}`)
  const counts = byFunction(file)
  rmSync(file, { force: true })
  return counts
}

/** Which part of the process a function belongs to (V8 and Node symbols; JIT code has none). */
function part(fn: string): string {
  if (fn === '???') return 'JIT-compiled code'
  if (/compiler::|Turbofan|Maglev|Compil|interpreter::Bytecode/.test(fn)) return 'TurboFan, compiling'
  // The write barrier's builtins (RecordWrite*) run only for the GC: more of them while a marking is under way.
  if (/Scaveng|Marking|Mark|Sweep|Heap|heap::|Evacuat|Remembered|SlotSet|cppgc|Compactor|RecordWrite/.test(fn)) return 'GC'
  if (fn.startsWith('Builtins_')) return 'V8 builtins'
  if (/malloc|free|memcpy|memmove|memset|llhttp|uv_|node::/.test(fn)) return 'libc, libuv, node'
  return 'V8 runtime'
}

console.log(`command: cd bench && node --import tsx sdk/instructions.ts --variants ${VARIANTS.join(',')} --warmup ${WARMUP} --calls ${CALLS}${NODE_FLAGS.length ? ` --node-flags '${NODE_FLAGS.join(' ')}'` : ''}${args.includes('--by-function') ? ' --by-function' : ''}`)
const perCall = new Map<string, Map<string, number>>()
// Every run at once: valgrind runs one thread of a process at a time, and the counts do not depend on the host's load.
const runs = await Promise.all(VARIANTS.map((v) => Promise.all([run(v, 1), run(v, CALLS)])))
for (const [i, v] of VARIANTS.entries()) {
  const [one, many] = runs[i] as [Map<string, number>, Map<string, number>]
  const diff = new Map<string, number>()
  for (const fn of new Set([...one.keys(), ...many.keys()])) diff.set(fn, ((many.get(fn) ?? 0) - (one.get(fn) ?? 0)) / (CALLS - 1))
  perCall.set(v, diff)
  const total = [...diff.values()].reduce((a, b) => a + b, 0)
  console.log(`${v.padEnd(20)} ${(total / 1000).toFixed(0).padStart(6)} k instructions per plain call (after ${WARMUP} warm-up calls)`)
}
const base = perCall.get('bare')
if (base && args.includes('--by-function')) {
  for (const [v, diff] of perCall) {
    if (v === 'bare') continue
    const parts = new Map<string, [number, number]>()
    for (const fn of new Set([...base.keys(), ...diff.keys()])) {
      const p = parts.get(part(fn)) ?? [0, 0]
      p[0] += base.get(fn) ?? 0
      p[1] += diff.get(fn) ?? 0
      parts.set(part(fn), p)
    }
    // What the JIT and GC timing moves least: whether a major GC or a recompile falls in the counted calls
    // moved those two parts by hundreds of k per call between runs of one build.
    let steady = 0
    for (const [name, [b, x]] of parts) if (name !== 'GC' && name !== 'TurboFan, compiling') steady += x - b
    console.log(`\n${v} against bare, k instructions per call:  bare  ${v}  added  (added outside GC and TurboFan: ${(steady / 1000).toFixed(0)} k)`)
    for (const [name, [b, x]] of [...parts].sort((a, b) => b[1][1] - b[1][0] - (a[1][1] - a[1][0]))) {
      console.log(`  ${name.padEnd(22)} ${(b / 1000).toFixed(0).padStart(6)} ${(x / 1000).toFixed(0).padStart(6)} ${((x - b) / 1000 >= 0 ? '+' : '') + ((x - b) / 1000).toFixed(0)}`)
    }
    const top = [...new Set([...base.keys(), ...diff.keys()])].map((fn) => [fn, (diff.get(fn) ?? 0) - (base.get(fn) ?? 0)] as const).sort((a, b) => b[1] - a[1]).slice(0, 15)
    console.log('  largest added, by function:')
    for (const [fn, d] of top) console.log(`    ${(d / 1000).toFixed(1).padStart(7)} k  ${fn.slice(0, 110)}`)
  }
}
llm.close()
receiver.close()
