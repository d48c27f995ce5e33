/**
 * The OTLP mutation fuzzer of packages/ingest/test/otlp-fuzz.test.ts, for longer:
 * many seeds, each a campaign of up to --cases mutated requests in a fresh server
 * (its own process: embedded ClickHouse binds one data directory per process),
 * until --minutes run out. When a campaign finds acknowledged spans that did not
 * reach ClickHouse, it is replayed case by case with a flush after each (triage,
 * in fresh processes) to name the cases that did it, up to --culprits of them.
 *
 *   cd bench && node --conditions=@spanlens/source --import tsx fuzz/otlp-fuzz.ts --minutes 30
 *   (--seed N to start from a given seed, --cases N per campaign, --culprits N, --no-triage,
 *    --concurrency N for odd seeds, --aborts per mille, --stalled uploads held open)
 *
 * Rerun one seed in CI's test: SPANLENS_FUZZ_SEED=<seed> SPANLENS_FUZZ_CASES=<n> npx vitest run packages/ingest/test/otlp-fuzz.test.ts
 * Not part of the CI suite. Prints its command, machine and findings; exits 1 when it found any.
 */
import { spawn } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { runCampaign, type CampaignReport } from '../../packages/ingest/test/fuzz/campaign.js'
import { startFuzzServer } from '../../packages/ingest/test/fuzz/server.js'

const ATTACKER = { project: 'attacker', key: 'attacker-key-0123456789' }
const VICTIM = { project: 'victim', key: 'victim-key-0123456789' }
const HOG = { project: 'hog', key: 'hog-key-0123456789' }

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    cases: { type: 'string', default: '20000' },
    seed: { type: 'string' },
    culprits: { type: 'string', default: '5' },
    'no-triage': { type: 'boolean', default: false },
    child: { type: 'string' },
    from: { type: 'string', default: '0' },
    skip: { type: 'string', default: '' },
    'max-ms': { type: 'string', default: '600000' },
    aborts: { type: 'string', default: '10' },
    stalled: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '4' },
  },
})

/** One campaign or one triage pass in this process; prints its report as the last line. */
async function child(): Promise<void> {
  const server = await startFuzzServer([ATTACKER, VICTIM, HOG], { SPANLENS_MAX_CONCURRENT_REQUESTS: '8', SPANLENS_SPOOL_FSYNC: 'never', SPANLENS_BODY_LIMIT_BYTES: String(32 * 1024 * 1024) })
  try {
    const report = await runCampaign(server, {
      seed: Number(values.seed),
      cases: Number(values.cases),
      attacker: ATTACKER,
      victim: VICTIM,
      canaryEvery: 10,
      abortRate: Number(values.aborts) / 1000,
      requestTimeoutMs: 10_000,
      flushTimeoutMs: 30_000,
      maxDurationMs: Number(values['max-ms']),
      from: Number(values.from),
      skip: new Set(values.skip ? values.skip.split(',').map(Number) : []),
      triage: values.child === 'triage',
      concurrency: Number(values.concurrency),
      ...(Number(values.stalled) > 0 ? { stalled: { project: HOG, count: Number(values.stalled) } } : {}),
    })
    process.stdout.write(`\nREPORT ${JSON.stringify(report)}\n`)
  } finally {
    await server.close()
  }
  process.exit(0)
}

function runChild(args: string[], timeoutMs: number): Promise<CampaignReport | string> {
  const script = fileURLToPath(import.meta.url)
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    p.stdout.on('data', (d: Buffer) => (out += d.toString()))
    p.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs)
    p.on('exit', (code, signal) => {
      clearTimeout(timer)
      const line = out.split('\n').find((l) => l.startsWith('REPORT '))
      resolve(line ? (JSON.parse(line.slice(7)) as CampaignReport) : `child ${args.join(' ')} exited ${code ?? signal} without a report: ${err.slice(-2000)}`)
    })
  })
}

const STORAGE = /flush\(\) did not finish|not stored exactly once|stored spans, it was acknowledged|are stored$|spool\/dead|counts \d+ spans/

async function parent(): Promise<void> {
  const budgetMs = Number(values.minutes) * 60_000
  const started = Date.now()
  const firstSeed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31
  console.log(`command: node ${process.execArgv.join(' ')} bench/fuzz/otlp-fuzz.ts ${process.argv.slice(2).join(' ')}`)
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`)
  const findings: string[] = []
  let totalCases = 0
  for (let seed = firstSeed; Date.now() - started < budgetMs; seed++) {
    const left = budgetMs - (Date.now() - started)
    // Odd seeds send --concurrency requests at once (exporters do); even ones one at a time, so
    // each reply's count is checked against the server's counter.
    const concurrency = seed % 2 === 1 ? String(values.concurrency) : '1'
    const args = ['--child', 'campaign', '--seed', String(seed), '--cases', String(values.cases), '--max-ms', String(Math.max(10_000, left)), '--aborts', String(values.aborts), '--stalled', String(values.stalled), '--concurrency', concurrency]
    const report = await runChild(args, left + 180_000)
    if (typeof report === 'string') {
      findings.push(`seed ${seed}: ${report}`)
      console.log(`seed ${seed}: CRASH ${report.slice(0, 500)}`)
      continue
    }
    totalCases += report.casesRun
    console.log(`seed ${seed} (concurrency ${concurrency}): ${report.casesRun} cases in ${(report.durationMs / 1000).toFixed(0)} s, statuses ${JSON.stringify(report.statuses)}, ${report.violations.length} violations`)
    for (const v of report.violations) {
      findings.push(`seed ${seed}: ${v}`)
      console.log(`  ${v}`)
    }
    if (report.logs.length > 0) console.log(`  server logs:\n    ${report.logs.join('\n    ')}`)
    if (!values['no-triage'] && report.violations.some((v) => STORAGE.test(v))) await triage(seed, report.casesRun, findings, budgetMs + 30 * 60_000 - (Date.now() - started))
  }
  console.log(`\n${totalCases} cases over ${Math.round((Date.now() - started) / 1000)} s; ${findings.length} findings`)
  process.exit(findings.length > 0 ? 1 : 0)
}

/** Replays a seed case by case, in fresh processes, naming each case after which storage broke. */
async function triage(seed: number, cases: number, findings: string[], budgetMs: number): Promise<void> {
  const started = Date.now()
  const skip: number[] = []
  let from = 0
  for (let n = 0; n < Number(values.culprits) && from < cases && Date.now() - started < budgetMs; n++) {
    const report = await runChild(
      ['--child', 'triage', '--seed', String(seed), '--cases', String(cases), '--from', String(from), '--skip', skip.join(','), '--max-ms', String(budgetMs), '--aborts', String(values.aborts), '--stalled', '0'],
      budgetMs + 120_000,
    )
    if (typeof report === 'string') {
      findings.push(`seed ${seed} triage: ${report}`)
      return
    }
    if (!report.culprit) {
      console.log(`  triage from case ${from}: no single case breaks storage on its own (${report.violations.length} other violations)`)
      return
    }
    const c = report.culprit
    findings.push(`seed ${seed} culprit case ${c.index}: ${c.name}: ${c.problem}`)
    console.log(`  CULPRIT ${c.name}\n    answered ${c.answer}\n    then: ${c.problem}\n    server logs:\n      ${report.logs.join('\n      ')}`)
    skip.push(c.index)
    from = c.index + 1
  }
}

// Last, so every constant above is initialised before either runs.
if (values.child) await child()
else await parent()
