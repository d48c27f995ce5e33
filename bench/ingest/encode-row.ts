/**
 * encodeRow(normalizeSpan(span)) in-process, one build against another, in
 * interleaved rounds (the host is shared: only a comparison within one run
 * means anything). Each side is bundled with esbuild from a source tree, so
 * both run the same way the server does (no tsx wrappers).
 *
 *   cd bench && node --import tsx ingest/encode-row.ts [baseline-git-rev] [rounds]
 *
 * The baseline is that revision's packages/{ingest,query}/src (default HEAD),
 * the candidate is the working tree, or the tree at $CANDIDATE_ROOT. Spans:
 * 100 LLM spans (2.4 KB rows), 20 attributes, prompt and completion JSON with
 * quotes, newlines and a tab, so the escaping paths run. Prints CPU µs per
 * span, min and median of the rounds, for normalize + encode and encode alone.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'

const root = join(import.meta.dirname, '../..')
const rev = process.argv[2] ?? 'HEAD'
const rounds = Number(process.argv[3] ?? 40)
const require = createRequire(join(root, 'packages/ingest/package.json'))
/** The part of esbuild's API used here (esbuild is tsx's, found in pnpm's store, not a dependency of the bench). */
interface EsbuildPluginBuild {
  onResolve(options: { filter: RegExp }, callback: (args: { path: string }) => { path: string }): void
}
interface Esbuild {
  build(options: Record<string, unknown> & { plugins?: Array<{ name: string; setup(b: EsbuildPluginBuild): void }> }): Promise<unknown>
}
const esbuild = require(require.resolve('esbuild', { paths: [join(root, 'node_modules/.pnpm/node_modules')] })) as Esbuild

const ENTRY = `
export { normalizeSpan } from './packages/ingest/src/normalize/normalize.ts'
export { encodeRow } from './packages/ingest/src/pipeline/row-format.ts'
export { PriceTable } from './packages/ingest/src/normalize/cost.ts'
`

async function bundle(srcRoot: string, out: string): Promise<string> {
  const entry = `${out}.entry.ts`
  writeFileSync(entry, ENTRY.replaceAll('./packages/', `${srcRoot}/packages/`))
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: out,
    conditions: ['@spanlens/source'],
    nodePaths: [join(root, 'node_modules'), join(root, 'packages/ingest/node_modules'), join(root, 'packages/query/node_modules')],
    plugins: [
      {
        // @spanlens/query and its subpaths from the same tree
        name: 'query-from-tree',
        setup(b) {
          b.onResolve({ filter: /^@spanlens\/query(\/.*)?$/ }, (args) => ({
            path: join(srcRoot, 'packages/query/src', `${args.path.slice('@spanlens/query/'.length) || 'index'}.ts`),
          }))
        },
      },
    ],
    logLevel: 'error',
  })
  return out
}

const work = mkdtempSync(join(tmpdir(), 'encode-row-'))
const base = join(work, 'base')
mkdirSync(base)
execFileSync('sh', ['-c', `git -C ${root} archive ${rev} packages/ingest/src packages/query/src | tar -x -C ${base}`])
type Lib = {
  normalizeSpan: (s: unknown, p: string, o: unknown) => unknown
  encodeRow: (r: unknown) => string
  PriceTable: { load(f: undefined): unknown }
}
const sides: Array<[string, Lib]> = [
  ['baseline', require(await bundle(base, join(work, 'base.cjs'))) as Lib],
  ['candidate', require(await bundle(process.env.CANDIDATE_ROOT ?? root, join(work, 'cand.cjs'))) as Lib],
]

const words = 'the quick brown fox jumps over a lazy dog while our "retrieval" chain summarizes quarterly revenue guidance'.split(' ')
const text = (n: number, seed: number) => Array.from({ length: n }, (_, i) => words[(i * 7 + seed) % words.length] + (i % 17 === 16 ? '\n' : '')).join(' ')
function spans(n: number) {
  const now = BigInt(Date.now()) * 1_000_000n
  const resource = Object.freeze({ 'service.name': 'bench-chat', 'deployment.environment.name': 'bench', 'service.version': '1.0.0', 'telemetry.sdk.language': 'nodejs', 'host.name': 'web-7' })
  // One object for the request's scope, as the decoders give it (an SDK's scope has no attributes).
  const scopeAttributes = {}
  return Array.from({ length: n }, (_, i) => {
    const start = now + BigInt(i) * 1_000_000n
    return {
      resource,
      scopeName: 'bench',
      scopeVersion: '1.0.0',
      scopeAttributes,
      traceId: (i + 1).toString(16).padStart(32, 'a'),
      spanId: (i + 1).toString(16).padStart(16, 'b'),
      parentSpanId: i % 5 === 0 ? '' : 'c'.repeat(16),
      name: `chat gpt-4o-${i % 4}`,
      kind: 3,
      startNs: start.toString(),
      endNs: (start + BigInt(300 + i * 7) * 1_000_000n).toString(),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': i % 4 === 2 ? 'anthropic' : 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.response.model': 'gpt-4o-2024-08-06',
        'gen_ai.response.id': `chatcmpl-${i}`,
        'gen_ai.request.temperature': 0.2,
        'gen_ai.request.max_tokens': 512,
        'gen_ai.usage.input_tokens': 200 + i * 3,
        'gen_ai.usage.output_tokens': 50 + i,
        'gen_ai.usage.cache_read.input_tokens': 64,
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.input.messages': JSON.stringify([
          { role: 'system', parts: [{ type: 'text', content: 'You are a helpful assistant.\tBe brief.' }] },
          { role: 'user', parts: [{ type: 'text', content: text(90, i) }] },
        ]),
        'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: text(60, i + 3) }], finish_reason: 'stop' }]),
        'user.id': `user-${i % 37}`,
        'session.id': `session-${i % 11}`,
        'http.route': '/v1/chat',
        'server.address': 'api.openai.com',
        'app.tenant': `tenant-${i % 5}`,
        'app.feature': 'support-reply',
        'app.request_id': `req-${i}-${'x'.repeat(20)}`,
      },
      events: [],
      links: [],
      statusCode: 1,
      statusMessage: '',
    }
  })
}

const input = spans(100)
const lines = sides.map(([, lib]) => input.map((s) => lib.encodeRow(lib.normalizeSpan(s, 'bench', { prices: lib.PriceTable.load(undefined) }))))
const bytes = lines[0]?.reduce((n, l) => n + Buffer.byteLength(l), 0) ?? 0
console.log(`rows of ${Math.round(bytes / input.length)} B on average; both sides encode them ${lines[0]?.join('\n') === lines[1]?.join('\n') ? 'identically' : 'DIFFERENTLY'}`)
const libs = sides.map(([name, lib]) => {
  const prices = lib.PriceTable.load(undefined)
  return { name, lib, prices, rows: input.map((s) => lib.normalizeSpan(s, 'bench', { prices })), both: [] as number[], encode: [] as number[] }
})
const sink: string[] = []
const REPS = 20
const cpu = (f: () => void): number => {
  const t0 = process.cpuUsage()
  f()
  const t = process.cpuUsage(t0)
  return (t.user + t.system) / (REPS * input.length)
}
for (let r = 0; r < rounds; r++) {
  for (const side of r % 2 === 0 ? libs : [...libs].reverse()) {
    const { lib, prices, rows } = side
    const both = cpu(() => {
      for (let k = 0; k < REPS; k++) for (const s of input) sink[0] = lib.encodeRow(lib.normalizeSpan(s, 'bench', { prices }))
    })
    const encode = cpu(() => {
      for (let k = 0; k < REPS; k++) for (const row of rows) sink[0] = lib.encodeRow(row)
    })
    if (r >= 4) { side.both.push(both); side.encode.push(encode) } // the first rounds warm up
  }
}
console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}, ${rounds} rounds of ${REPS}×${input.length} spans, baseline ${rev}`)
const stat = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return `min ${sorted[0]?.toFixed(2)}, median ${sorted[sorted.length >> 1]?.toFixed(2)} µs`
}
for (const s of libs) console.log(`${s.name}: encodeRow(normalizeSpan()) ${stat(s.both)}; encodeRow alone ${stat(s.encode)} per span`)
rmSync(work, { recursive: true, force: true })
