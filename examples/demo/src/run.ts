import { RELEASES, runDemo } from './workload.js'

// pnpm demo [--tickets N]: sends the workload to a running server, then says what to look at.
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : undefined
}
const endpoint = process.env.SPANLENS_ENDPOINT ?? 'http://127.0.0.1:4318'
const apiKey = process.env.SPANLENS_API_KEY
const tickets = Number(arg('tickets') ?? 300)
if (!Number.isInteger(tickets) || tickets < 30) {
  console.error('--tickets must be an integer of at least 30 (the reports need 30 samples per group)')
  process.exit(1)
}

const health = await fetch(`${endpoint}/readyz`).catch(() => undefined)
if (!health?.ok) {
  console.error(`No Spanlens server is ready at ${endpoint}. Start one first, with the demo's SLO file:\n  SPANLENS_SLO_FILE=examples/demo/slos.yaml npx pnpm@10.34.8 start`)
  process.exit(1)
}

const started = Date.now()
console.log(`Sending the demo workload to ${endpoint} (${tickets} support tickets per release)…`)
const s = await runDemo({ endpoint, apiKey, tickets, log: (line) => console.log(`  ${line}`) })
console.log(
  `Done in ${((Date.now() - started) / 1000).toFixed(0)} s: ${s.tickets} tickets (${s.refused} refused, ${s.failed} failed, ${s.slow} slow), ` +
    `${s.summaries} summaries${s.spansDropped ? `, ${s.spansDropped} spans dropped by the SDK` : ''}.`,
)
const cli = 'node packages/ingest/dist/bin.js'
console.log(`
What to look at (from the repository root; add --api-key KEY if the server has keys):
  ${cli} drift --dimension release --reference ${RELEASES[0]} --current ${RELEASES[1]}
      v2 drifted: model mix, output tokens, latency
  ${cli} bias --group-by attr:spanlens.metadata.plan --outcome refusal_rate --service support-bot
      the free plan is refused far more often (four-fifths rule violated, significant)
  ${cli} bias --group-by attr:spanlens.metadata.plan --outcome negative_feedback_rate
      …and leaves more thumbs-down (score "feedback")
  ${cli} slo check
      support-bot latency and availability burn fast enough to page (needs SPANLENS_SLO_FILE=examples/demo/slos.yaml on the server)
  ${cli} traces --service support-bot --limit 5
  Console: ${endpoint}/`)
