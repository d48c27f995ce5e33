import { otlpTypes } from '../helpers/proto.js'
import { caseName, CONTENT_TYPE, makeCase } from './cases.js'
import { type Answer, send, stalledUpload } from './http.js'
import { baseRequest, requestWire, spansOf } from './model.js'
import { sentSpans } from './oracle.js'
import { Rng } from './rng.js'
import { acceptedSpans, type FuzzProject, type FuzzServer, importantLogs } from './server.js'
import { encodeMessage } from './wire.js'

export interface CampaignOptions {
  seed: number
  cases: number
  /** The project whose requests are mutated, and the one that only sends valid canaries. */
  attacker: FuzzProject
  victim: FuzzProject
  /** A canary request from the victim after every this many attacker requests. */
  canaryEvery: number
  /** Fraction of attacker uploads cut off mid-body. */
  abortRate: number
  requestTimeoutMs: number
  flushTimeoutMs: number
  /** Stop sending new cases after this long (the nightly script's time bound). */
  maxDurationMs: number
  /** First case index (default 0), and cases to leave out (culprits already found). */
  from?: number
  skip?: ReadonlySet<number>
  /**
   * Triage: flush after every case and stop at the first one after which an
   * acknowledged span is missing, a segment is dead-lettered or the inserter is stuck.
   */
  triage?: boolean
  /**
   * Attacker requests in flight at once (default 1). Above 1 a reply's count can no
   * longer be matched with the server's counter request by request; totals still are.
   */
  concurrency?: number
  /** Uploads a third project starts and never finishes, held open for the whole campaign. */
  stalled?: { project: FuzzProject; count: number }
  onProgress?: (done: number, violations: number) => void
}

export interface CampaignReport {
  seed: number
  casesRun: number
  statuses: Record<string, number>
  /** Broken promises, one line each, naming the case (seed, index, mutations). */
  violations: string[]
  canaries: { sent: number; acknowledged: number; stored: number; missing: string[] }
  attacker: { acknowledgedByServer: number; stored: number }
  deadLetters: string[]
  logs: string[]
  durationMs: number
  /** Triage: the first case that broke storage, with what the server said about it. */
  culprit?: { index: number; name: string; answer: string; problem: string }
}

const ALLOWED = new Set([200, 400, 413, 415, 429, 503])
const MAX_VIOLATIONS = 200

/** partial_success.rejected_spans of a 200, read in the encoding the server says it answered in. */
function rejectedIn(a: Answer): number | string {
  try {
    if (String(a.headers['content-type'] ?? '').includes('protobuf')) {
      const r = otlpTypes().response.toObject(otlpTypes().response.decode(a.body), { longs: String }) as { partialSuccess?: { rejectedSpans?: string } }
      return Number(r.partialSuccess?.rejectedSpans ?? 0)
    }
    const r = JSON.parse(a.body.toString('utf8')) as { partialSuccess?: { rejectedSpans?: string | number } }
    return Number(r.partialSuccess?.rejectedSpans ?? 0)
  } catch (err) {
    return `unreadable 200 body: ${(err as Error).message}`
  }
}

const snippet = (a: Answer) => {
  const text = a.body.toString('utf8').replace(/[^\x20-\x7e]/g, '.')
  return `${a.status} ${text.slice(0, 200)}`
}

/**
 * Sends `cases` mutated requests from the attacker, one at a time, with valid
 * canaries from the victim in between, then checks the promises: answers are
 * 200/400/413/415 or 429/503 with Retry-After, within the deadline; each 200
 * tells the truth about how many spans it took; after flush every span the
 * server acknowledged is in ClickHouse exactly once, readable through the API
 * by its own project, and invisible to the other.
 */
export async function runCampaign(server: FuzzServer, o: CampaignOptions): Promise<CampaignReport> {
  const started = Date.now()
  const violations: string[] = []
  const violate = (msg: string) => {
    if (violations.length < MAX_VIOLATIONS) violations.push(msg)
  }
  const statuses: Record<string, number> = {}
  const canaryRng = new Rng(o.seed ^ 0x5eed_c0de)
  const canaryIds: string[] = []
  const canaryService = `canary-${o.seed}`
  let canariesSent = 0
  let attackerAccepted = 0
  let casesRun = 0

  const sendCanary = async () => {
    const req = baseRequest(canaryRng, { service: canaryService, maxSpans: 2 })
    const body = encodeMessage(requestWire(req))
    canariesSent++
    for (let attempt = 1; ; attempt++) {
      const a = await send(server.url, {
        method: 'POST',
        path: '/v1/traces',
        headers: { 'content-type': CONTENT_TYPE.protobuf, authorization: `Bearer ${o.victim.key}` },
        body,
        timeoutMs: o.requestTimeoutMs,
      })
      if (a.status === 200) {
        for (const sp of spansOf(req)) canaryIds.push(sp.spanId.toString('hex'))
        return true
      }
      if ((a.status === 429 || a.status === 503) && attempt < 4) {
        await new Promise((r) => setTimeout(r, 250 * attempt))
        continue
      }
      violate(`canary ${canariesSent} from ${o.victim.project} not accepted after ${attempt} attempts (after attacker case ${casesRun - 1}): ${snippet(a)}`)
      return false
    }
  }

  // A project that holds uploads open must not cost the others their turn (fair admission).
  const stalled = Array.from({ length: o.stalled?.count ?? 0 }, () =>
    stalledUpload(server.url, {
      path: '/v1/traces',
      headers: { 'content-type': CONTENT_TYPE.protobuf, authorization: `Bearer ${o.stalled?.project.key}` },
      totalBytes: 1_000_000,
      firstBytes: Buffer.from([0x0a]),
    }),
  )
  if (stalled.length > 0) await new Promise((r) => setTimeout(r, 200))

  let canaryFailures = 0
  let culprit: CampaignReport['culprit']
  /** Span keys of requests taken whole: if spans go missing, these name the cases they came from. */
  const promised: Array<[string, number]> = []
  /** How often each span id was sent in a request answered 200, rejections or not: an id sent twice is one row. */
  const sentKeys = new Map<string, number>()
  const resentSoFar = () => {
    let n = 0
    for (const times of sentKeys.values()) n += times - 1
    return n
  }
  const concurrency = o.triage ? 1 : Math.max(1, o.concurrency ?? 1)
  const acceptedAtStart = await acceptedSpans(server.app, o.attacker.project)
  let next = o.from ?? 0
  let stop = false
  const runCase = async (i: number): Promise<void> => {
    const c = makeCase(o.seed, i, { service: `fuzz-${o.attacker.project}`, abortRate: o.abortRate })
    const before = await acceptedSpans(server.app, o.attacker.project)
    const headers: Record<string, string> = { ...c.headers, authorization: `Bearer ${o.attacker.key}` }
    const a = await send(server.url, {
      method: 'POST',
      path: '/v1/traces',
      headers,
      body: c.body,
      timeoutMs: o.requestTimeoutMs,
      ...(c.abortAfterBytes !== undefined ? { abortAfterBytes: c.abortAfterBytes } : {}),
    })
    casesRun++
    // With several requests in flight the counter moves for all of them: no per-request delta.
    const delta = concurrency === 1 ? (await acceptedSpans(server.app, o.attacker.project)) - before : undefined
    if (delta !== undefined) attackerAccepted += delta
    statuses[a.status] = (statuses[a.status] ?? 0) + 1
    const name = caseName(c)
    if (c.abortAfterBytes !== undefined) {
      if (delta !== undefined && delta !== 0) violate(`${name}: an upload cut off mid-body was accepted (${delta} spans)`)
    } else if (a.status === 0) violate(`${name}: ${a.body.toString()}`)
    else if (!ALLOWED.has(a.status)) violate(`${name}: answered ${snippet(a)}`)
    else if ((a.status === 429 || a.status === 503) && a.headers['retry-after'] === undefined) violate(`${name}: ${a.status} without Retry-After`)
    else if (a.status === 200) {
      const rejected = rejectedIn(a)
      // The oracle counts what the body holds; headers spelled unlike it make no count promise.
      const plain = c.headers['content-type'] === CONTENT_TYPE[c.format] && (c.headers['content-encoding'] ?? 'none') === (c.compression === 'none' ? 'none' : c.compression)
      const sentAll = plain ? sentSpans(c.format, c.body, c.compression) : undefined
      const sent = sentAll?.count
      for (const k of sentAll?.keys ?? []) sentKeys.set(k, (sentKeys.get(k) ?? 0) + 1)
      if (typeof rejected === 'string') violate(`${name}: ${rejected}`)
      else if (delta !== undefined && sent !== undefined && sent - rejected !== delta) {
        violate(`${name}: the reply says ${sent - rejected} of ${sent} spans were taken (rejected ${rejected}), the server counted ${delta} accepted`)
      } else if (rejected === 0 && sentAll) for (const k of sentAll.keys) promised.push([k, i])
    } else if (delta !== undefined && delta !== 0) violate(`${name}: answered ${a.status} but accepted ${delta} spans`)

    if (o.triage && c.abortAfterBytes === undefined) {
      const stuck = await server.flushWithin(10_000)
      const stored = Number((await server.rows<{ c: string }>('SELECT count() AS c FROM spans FINAL WHERE project_id = {p:String}', { p: o.attacker.project }))[0]?.c ?? 0)
      const dead = server.deadLetters().length
      const folded = resentSoFar()
      const short = attackerAccepted - stored
      const problem =
        stuck ?? (dead > 0 ? `${dead} file(s) in spool/dead` : short < 0 || short > folded ? `acknowledged ${attackerAccepted} attacker spans so far, ${stored} stored (span ids sent more than once: ${folded})` : undefined)
      if (problem) {
        culprit = { index: i, name, answer: snippet(a), problem }
        violate(`storage broken by ${name}: ${problem}; it was answered ${snippet(a)}`)
        stop = true
        return
      }
    }
    if (i % o.canaryEvery === o.canaryEvery - 1 && !(await sendCanary())) canaryFailures++
    if (i % 250 === 249) {
      const h = await send(server.url, { method: 'GET', path: '/healthz', timeoutMs: o.requestTimeoutMs })
      if (h.status !== 200) violate(`/healthz after case ${i}: ${snippet(h)}`)
    }
    o.onProgress?.(casesRun, violations.length)
  }
  const worker = async () => {
    while (!stop && Date.now() - started < o.maxDurationMs && canaryFailures < 3) {
      const i = next++
      if (i >= o.cases) return
      if (!o.skip?.has(i)) await runCase(i)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  if (concurrency > 1) attackerAccepted = (await acceptedSpans(server.app, o.attacker.project)) - acceptedAtStart
  if (canaryFailures === 0) await sendCanary()
  for (const s of stalled) s.close()

  const stuck = await server.flushWithin(o.flushTimeoutMs)
  if (stuck) violate(stuck)
  const count = async (project: string) =>
    Number((await server.rows<{ c: string }>('SELECT count() AS c FROM spans FINAL WHERE project_id = {p:String}', { p: project }))[0]?.c ?? 0)
  const storedCanaries = await server.rows<{ span_id: string; n: string }>(
    'SELECT span_id, count() AS n FROM spans FINAL WHERE project_id = {p:String} GROUP BY span_id',
    { p: o.victim.project },
  )
  const storedSet = new Map(storedCanaries.map((r) => [r.span_id, Number(r.n)]))
  const missing = canaryIds.filter((id) => storedSet.get(id) !== 1)
  const attackerStored = await count(o.attacker.project)
  if (missing.length > 0) violate(`${missing.length} of ${canaryIds.length} acknowledged canary spans of ${o.victim.project} are not stored exactly once (first: ${missing.slice(0, 5).join(', ')})`)
  if (storedSet.size !== canaryIds.length) violate(`${o.victim.project} has ${storedSet.size} stored spans, it was acknowledged ${canaryIds.length}`)
  // A span id sent in two accepted places is one row (ReplacingMergeTree): a shortfall up to the ids
  // sent more than once is that, not a loss. The per-span check below names losses among whole cases.
  const resent = resentSoFar()
  const shortfall = attackerAccepted - attackerStored
  if (shortfall < 0 || shortfall > resent || (shortfall > 0 && stuck)) {
    violate(
      `${o.attacker.project}: the server acknowledged ${attackerAccepted} spans, ${attackerStored} are stored (span ids sent more than once: ${resent})${stuck ? ' (flush had not finished: these may be late, not lost)' : ''}`,
    )
  }
  // Naming the cases of missing spans only means something once everything acknowledged was inserted.
  if (attackerStored !== attackerAccepted && !stuck) {
    const stored = new Set(
      (await server.rows<{ k: string }>("SELECT concat(trace_id, '/', span_id) AS k FROM spans FINAL WHERE project_id = {p:String}", { p: o.attacker.project })).map((r) => r.k),
    )
    for (const [k, i] of promised) if (!stored.has(k)) violate(`span ${k} of case ${i} (acknowledged, none rejected) is not stored`)
  }

  // Readable by its own project through the API; nothing of one project visible to the other.
  const sqlCount = async (p: FuzzProject, where = '1') => {
    const a = await send(server.url, {
      method: 'POST',
      path: '/api/v1/sql',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${p.key}` },
      body: Buffer.from(JSON.stringify({ query: `SELECT count() AS c FROM spans WHERE ${where}` })),
      timeoutMs: 30_000,
    })
    if (a.status !== 200) return `${snippet(a)}`
    return Number((JSON.parse(a.body.toString()) as { data: Array<{ c: string }> }).data[0]?.c)
  }
  const victimSees = await sqlCount(o.victim)
  if (victimSees !== storedSet.size) violate(`POST /api/v1/sql as ${o.victim.project} counts ${victimSees} spans, ${storedSet.size} are stored`)
  const attackerSees = await sqlCount(o.attacker)
  if (attackerSees !== attackerStored) violate(`POST /api/v1/sql as ${o.attacker.project} counts ${attackerSees} spans, ${attackerStored} are stored`)
  const leak = await sqlCount(o.victim, `service_name = 'fuzz-${o.attacker.project}'`)
  if (leak !== 0) violate(`${o.victim.project} sees ${leak} spans of ${o.attacker.project}'s service through /api/v1/sql`)
  const health = await send(server.url, { method: 'GET', path: '/healthz', timeoutMs: o.requestTimeoutMs })
  if (health.status !== 200) violate(`/healthz at the end: ${snippet(health)}`)
  const deadLetters = server.deadLetters()
  if (deadLetters.length > 0) violate(`ClickHouse refused acknowledged data: ${deadLetters.length} file(s) in spool/dead`)

  return {
    seed: o.seed,
    casesRun,
    statuses,
    violations,
    canaries: { sent: canariesSent, acknowledged: canaryIds.length, stored: canaryIds.length - missing.length, missing: missing.slice(0, 20) },
    attacker: { acknowledgedByServer: attackerAccepted, stored: attackerStored },
    deadLetters,
    logs: importantLogs(server.logs),
    durationMs: Date.now() - started,
    ...(culprit ? { culprit } : {}),
  }
}
