// Self time of a .cpuprofile by function and by package/file, top N.
// Usage: node sdk/cpuprofile-summary.mjs <file.cpuprofile> [top=30] [calls]
// With `calls`, times are divided by it to read as µs per call.
import { readFileSync } from 'node:fs'

const [file, topArg, callsArg] = process.argv.slice(2)
const top = Number(topArg ?? 30)
const calls = callsArg ? Number(callsArg) : undefined
const p = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(p.nodes.map((n) => [n.id, n]))
const self = new Map()
// samples[i] was taken timeDeltas[i+1] before the next one: attribute each delta to its sample.
for (let i = 0; i < p.samples.length; i++) {
  const dt = p.timeDeltas[i + 1] ?? 0
  self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt)
}
const total = [...self.values()].reduce((a, b) => a + b, 0)
const where = (url) => {
  if (!url) return '(native)'
  const m = url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/)
  if (m) return m[1]
  if (url.includes('packages/sdk/src/')) return `sdk:${url.split('packages/sdk/src/')[1]}`
  if (url.startsWith('node:')) return url
  return url.split('/').slice(-2).join('/')
}
const byFn = new Map()
const byFile = new Map()
for (const [id, t] of self) {
  const n = byId.get(id)
  const cf = n.callFrame
  const w = where(cf.url)
  const fk = `${cf.functionName || '(anonymous)'}  ${w}:${cf.lineNumber + 1}`
  byFn.set(fk, (byFn.get(fk) ?? 0) + t)
  byFile.set(w, (byFile.get(w) ?? 0) + t)
}
const fmt = (t) => (calls ? `${(t / calls).toFixed(2).padStart(7)} µs/call` : `${(t / 1000).toFixed(1).padStart(8)} ms`) + `  ${((100 * t) / total).toFixed(1).padStart(5)}%`
console.log(`total ${(total / 1000).toFixed(0)} ms${calls ? `, ${(total / calls).toFixed(1)} µs/call` : ''}`)
console.log('\n-- by file/package')
for (const [k, t] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${fmt(t)}  ${k}`)
console.log('\n-- by function')
for (const [k, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${fmt(t)}  ${k}`)
