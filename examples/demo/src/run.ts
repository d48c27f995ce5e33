import { parseArgs } from 'node:util'
import { RELEASES, runDemo } from './workload.js'

// pnpm demo [--tickets N] [--hours H] [--seed S]: sends the workload to a running server, then says what to look at.
const USAGE = `usage: pnpm demo [--tickets N] [--hours H] [--seed S] [--concurrency C]
  --tickets      support tickets per release (default 300, at least 30; summaries are a third of that)
  --hours        history the timestamps cover, v1 in the first half, v2 in the second (default 48)
  --seed         seed of the random draws (default 7): models, latencies, failures, feedback
  --concurrency  tickets in flight at once (default 32)
env: SPANLENS_ENDPOINT (default http://127.0.0.1:4318), SPANLENS_API_KEY`

let values
try {
  values = parseArgs({
    // `pnpm demo --tickets 5` arrives as `-- --tickets 5` through the workspace script.
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      tickets: { type: 'string', default: '300' },
      hours: { type: 'string', default: '48' },
      seed: { type: 'string', default: '7' },
      concurrency: { type: 'string', default: '32' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values
} catch (e) {
  console.error(`${(e as Error).message}\n${USAGE}`)
  process.exit(1)
}
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const tickets = Number(values.tickets)
const hours = Number(values.hours)
const seed = Number(values.seed)
const concurrency = Number(values.concurrency)
if (!Number.isInteger(tickets) || tickets < 30) fail('--tickets must be an integer of at least 30 (the reports need 30 samples per group)')
if (!(hours >= 1)) fail('--hours must be at least 1')
if (!Number.isInteger(seed)) fail('--seed must be an integer')
if (!Number.isInteger(concurrency) || concurrency < 1) fail('--concurrency must be a positive integer')

const endpoint = (process.env.SPANLENS_ENDPOINT ?? 'http://127.0.0.1:4318').replace(/\/+$/, '')
const apiKey = process.env.SPANLENS_API_KEY
const auth: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {}

const ready = await fetch(`${endpoint}/readyz`).catch(() => undefined)
if (!ready?.ok) {
  fail(`No Spanlens server is ready at ${endpoint}. Start one first (from the repository root), with the demo's SLO file:
  SPANLENS_SLO_FILE=examples/demo/slos.yaml npx pnpm@10.34.8 start`)
}
// The SLO file is the server's setting: say so now rather than after the run.
const slo = await fetch(`${endpoint}/api/v1/slo`, { headers: auth }).catch(() => undefined)
const sloCode = slo && !slo.ok ? ((await slo.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code : undefined
if (slo?.status === 401) fail(`${endpoint} wants an API key: set SPANLENS_API_KEY`)

const started = Date.now()
console.log(`Sending the demo workload to ${endpoint}: ${tickets} support tickets per release, dated over the past ${hours} h…`)
const s = await runDemo({ endpoint, apiKey, tickets, hours, seed, concurrency, log: (line) => console.log(`  ${line}`) })
console.log(
  `Done in ${((Date.now() - started) / 1000).toFixed(0)} s: ${s.tickets} tickets (${s.refused} refused, ${s.failed} failed, ${s.slow} slow), ` +
    `${s.summaries} summaries, from ${s.from} to ${s.to}${s.spansDropped ? `; ${s.spansDropped} spans dropped by the SDK` : ''}.`,
)

const half = `${hours / 2}h`
const cli = 'node packages/ingest/dist/bin.js'
// The CLI reads SPANLENS_URL and SPANLENS_API_KEY (flags go after the command: --url, --api-key).
const env = [
  ...(endpoint === 'http://127.0.0.1:4318' ? [] : [`  export SPANLENS_URL=${endpoint}`]),
  ...(apiKey ? ['  export SPANLENS_API_KEY=…   # the key the demo used'] : []),
]
console.log(`
What to look at (from the repository root, after npx pnpm@10.34.8 build):
${env.length ? `\n${env.join('\n')}\n` : ''}
  ${cli} drift --dimension release --reference ${RELEASES[0]} --current ${RELEASES[1]}
      v2 drifted: model mix, output tokens, latency, cost (input tokens did not)
  ${cli} drift --reference now-${hours}h..now-${half} --current now-${half}..now
      the same change seen as two time windows
  ${cli} bias --group-by attr:spanlens.metadata.plan --outcome refusal_rate --service support-bot
      the free plan is refused far more often (four-fifths rule violated, significant)
  ${cli} bias --group-by attr:spanlens.metadata.plan --outcome negative_feedback_rate
      …and leaves more thumbs-down (score "feedback")
  ${cli} slo check
      support-bot-latency pages (v2's slow calls); the 1h/5m alert holds for about 5 minutes after the demo, the longer windows for hours
  ${cli} slo --at now-${Math.round(hours / 2 + 1)}h
      the same SLOs an hour before v2: latency within budget
  ${cli} traces --service support-bot --limit 5
  ${cli} sql "SELECT release, request_model AS model, count() AS calls, round(quantile(0.95)(duration_ms)) AS p95_ms FROM spans WHERE kind = 'llm' GROUP BY ALL ORDER BY ALL"

  Console: ${endpoint}/  (sign in with ${apiKey ? 'the same key' : 'any key: the server has none'})
      Overview, last 7 days: v2's latency step and traffic; SLOs: alerts and the budget burn-down;
      Drift: "two releases", reference v1, current v2, service support-bot;
      Bias: group by attr:spanlens.metadata.plan, outcome refusal rate, service support-bot (the summarizer has no plan)`)
if (sloCode === 'SPANLENS_SLO_FILE_MISSING') {
  console.log(`
  This server has no SLO file, so "slo check" has nothing to check. Restart it with the demo's (the data stays):
    SPANLENS_SLO_FILE=examples/demo/slos.yaml npx pnpm@10.34.8 start`)
}

function fail(message: string): never {
  console.error(message)
  process.exit(1)
}
