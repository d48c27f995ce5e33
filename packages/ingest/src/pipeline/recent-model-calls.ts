import type { ModelCall } from './prepare.js'

/** One remembered model call: its place in the trace, its usage, and whether it counts. */
interface Call {
  spanId: string
  parentSpanId: string
  kind: string
  input: number
  output: number
  /** '' when the call counts; else the span id of the call it duplicates. */
  duplicateOf: string
}

/**
 * A trace's remembered calls, and when the first of them arrived: a trace is forgotten
 * whole, and a call of it that comes later starts it again. Only the halves of a pair
 * that straddle that moment are not matched; they arrive seconds apart.
 */
interface Trace {
  calls: Call[]
  at: number
}

/** A trace's calls looked at, at most: an agent's trace of thousands of calls costs no more per call than this. */
const CALLS_PER_TRACE = 1_000

/**
 * The model calls with usage this server received lately, so that a stacked pair
 * (stacked-calls.ts: two instrumentations reporting one call, the inner span under
 * the outer with the same usage) whose spans came in two export requests still
 * counts once. An SDK's batch processor exports spans as they end, so the inner span
 * can leave in one request and the outer, ending milliseconds later, in the next: at
 * a batch's size limit or its timer.
 *
 * The call of the pair that arrived second is demoted (it is in the request being
 * prepared; the first is spooled already and counted in the rollup at insert). Each
 * call's decision is kept, so a retried request is prepared as it was the first time.
 *
 * Bounded in entries and age: the two halves of a pair arrive in consecutive exports,
 * seconds apart. In memory only: a pair split across a restart, or across two servers
 * behind a load balancer, still counts twice. So does a stack of three whose top and
 * bottom spans arrive before the middle one: by then both are stored and counted.
 */
export class RecentModelCalls {
  /**
   * By `project/trace`, in the order of their first call's arrival: the oldest
   * first, for expiry and eviction. Pairs are looked for inside a trace only,
   * so a call costs one lookup and a scan of its trace's few calls.
   */
  private readonly traces = new Map<string, Trace>()
  private calls = 0

  constructor(
    private readonly maxCalls = 50_000,
    private readonly maxAgeMs = 5 * 60_000,
  ) {}

  /**
   * Decides which of a request's counted model calls duplicate one received
   * earlier, remembers every call's decision, and returns the demoted ones: span
   * key (`trace/span`) → the span id of the call that counts. Undefined when none.
   */
  reconcile(project: string, calls: readonly ModelCall[], now = Date.now()): Map<string, string> | undefined {
    this.expire(now)
    // Decided against what was remembered before this request: its own pairs were
    // decided while it was prepared (stacked-calls.ts).
    const decided: string[] = []
    for (const c of calls) decided.push(decide(this.traces.get(`${project}/${c.traceId}`), c))
    let demoted: Map<string, string> | undefined
    for (let i = 0; i < calls.length; i++) {
      const c = calls[i]!
      const duplicateOf = decided[i]!
      if (duplicateOf !== '') (demoted ??= new Map()).set(`${c.traceId}/${c.spanId}`, duplicateOf)
      this.remember(`${project}/${c.traceId}`, c, duplicateOf, now)
    }
    this.expire(now)
    return demoted
  }

  /** Calls remembered. */
  get size(): number {
    return this.calls
  }

  private remember(key: string, c: ModelCall, duplicateOf: string, now: number): void {
    const call: Call = { spanId: c.spanId, parentSpanId: c.parentSpanId, kind: c.kind, input: c.inputTokens, output: c.outputTokens, duplicateOf }
    const t = this.traces.get(key)
    // A literal for a new trace's list: most traces have one model call, and push() on an empty array reserves 17.
    if (!t) this.traces.set(key, { calls: [call], at: now })
    else if (t.calls.some((e) => e.spanId === c.spanId)) return
    else if (t.calls.push(call) > CALLS_PER_TRACE) {
      t.calls.shift()
      return
    }
    this.calls++
  }

  private expire(now: number): void {
    for (const [k, t] of this.traces) {
      if (now - t.at < this.maxAgeMs && this.calls <= this.maxCalls) break
      this.traces.delete(k)
      this.calls -= t.calls.length
    }
  }
}

/** The decision for `c`: the one taken when it came before, else the span id of a counted call it stacks with, else ''. */
function decide(t: Trace | undefined, c: ModelCall): string {
  if (!t) return ''
  let pair = ''
  for (const e of t.calls) {
    if (e.spanId === c.spanId) return e.duplicateOf
    if (pair === '' && e.duplicateOf === '' && e.kind === c.kind && e.input === c.inputTokens && e.output === c.outputTokens && (e.spanId === c.parentSpanId || e.parentSpanId === c.spanId)) pair = e.spanId
  }
  return pair
}
