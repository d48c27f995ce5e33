import { describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import { flush, observe, span, wrapOpenAI } from '../src/index.js'
import type { ReceivedSpan } from './helpers/receiver.js'
import { useHarness } from './helpers/harness.js'
import { inProcessOpenAI } from './helpers/in-process-openai.js'

const h = useHarness()

/** A step of an app: a tool (observe), an LLM call (wrapped client), or a span() with steps inside. */
type Step = { tool: true } | { llm: true } | { span: Step[] }
const step: fc.Arbitrary<Step> = fc.letrec<{ step: Step }>((tie) => ({
  step: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant({ tool: true as const }),
    fc.constant({ llm: true as const }),
    fc.array(tie('step'), { maxLength: 3 }).map((steps) => ({ span: steps })),
  ),
})).step

describe('span times of one trace', () => {
  it.each([
    ['', 0],
    // The wall clock set 1.5 s ahead mid-run (NTP stepping it): the SDK's clock takes the step at once
    // (time.ts). An LLM call's span waits up to ENDS_DELAY_MS to be written: written with the clock's
    // offset of that moment, a call that ended before the step came out 1.5 s later, after its parent
    // ended and the next step began. The offset moves by 0.1% of elapsed time otherwise, so a write
    // delayed ~50–90 ms on a loaded host shifted calls by as many microseconds (CI, once).
    [', the wall clock stepped ahead mid-run', 1500],
  ])('order parents before children and each step after the one before it, tools, spans and LLM calls alike, microseconds apart%s', async (_label, stepMs) => {
    const realNow = Date.now.bind(Date)
    const stepAt = realNow() + 60
    const stepped = stepMs === 0 ? undefined : vi.spyOn(Date, 'now').mockImplementation(() => realNow() + (realNow() >= stepAt ? stepMs : 0))
    h.start()
    const openai = wrapOpenAI(inProcessOpenAI())
    let n = 0
    const run = async (steps: Step[]): Promise<void> => {
      for (const s of steps) {
        const i = n++
        if ('tool' in s) observe(`tool-${i}`, () => i, { kind: 'tool' })()
        else if ('llm' in s) await openai.chat.completions.create({ model: `m-${i}`, messages: [{ role: 'user', content: 'x' }] })
        else await span(`span-${i}`, () => run(s.span))
      }
    }
    const plans = fc.sample(fc.array(step, { minLength: 2, maxLength: 6 }), { seed: 11, numRuns: 60 })
    for (const plan of plans) await span(`root-${n++}`, () => run(plan))
    expect(await flush()).toBe(true)

    const spans = h.receiver.spans
    expect(spans.length).toBe(n)
    // The step number each span was made for: its call order.
    const order = (s: ReceivedSpan) => Number(/-(\d+)$/.exec(s.name)?.[1])
    const byId = new Map(spans.map((s) => [s.spanId, s]))
    const children = new Map<string, ReceivedSpan[]>()
    for (const s of spans) if (s.parentSpanId) children.set(s.parentSpanId, [...(children.get(s.parentSpanId) ?? []), s])
    const misordered: string[] = []
    for (const [parentId, kids] of children) {
      const parent = byId.get(parentId)!
      kids.sort((a, b) => order(a) - order(b))
      kids.forEach((kid, k) => {
        if (kid.startMs < parent.startMs || kid.endMs > parent.endMs) misordered.push(`${kid.name} [${kid.startMs}, ${kid.endMs}] outside ${parent.name} [${parent.startMs}, ${parent.endMs}]`)
        const before = kids[k - 1]
        if (before && kid.startMs < before.endMs) misordered.push(`${kid.name} starts at ${kid.startMs}, before ${before.name} ended at ${before.endMs}`)
      })
    }
    stepped?.mockRestore()
    expect(misordered).toEqual([])
  })
})
