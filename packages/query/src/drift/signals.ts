import { attributeNumber } from '../attribute-numbers.js'
import { errors } from '../errors.js'
import { MODEL_EXPR } from '../filters.js'

type SignalType = 'numeric' | 'categorical' | 'text' | 'embedding'

/** How one signal is read from a span: a value expression and the spans it applies to. */
export interface SignalSpec {
  signal: string
  type: SignalType
  /** SQL over `spans` columns; for score signals the value comes from the scores table */
  expr: string
  /** extra condition (no project/time part) */
  where: string
  /** score name when the value lives in `scores` */
  score?: string
  /** expression needs the parameter bag (attribute keys) */
  params?: Record<string, unknown>
}

const LLM = "kind = 'llm'"

const BUILTIN: Record<string, Omit<SignalSpec, 'signal'>> = {
  input_tokens: { type: 'numeric', expr: 'toFloat64(input_tokens)', where: LLM },
  output_tokens: { type: 'numeric', expr: 'toFloat64(output_tokens)', where: LLM },
  total_tokens: { type: 'numeric', expr: 'toFloat64(total_tokens)', where: LLM },
  latency: { type: 'numeric', expr: 'duration_ms', where: LLM },
  ttft: { type: 'numeric', expr: 'assumeNotNull(ttft_ms)', where: `${LLM} AND ttft_ms IS NOT NULL` },
  cost: { type: 'numeric', expr: 'assumeNotNull(cost_usd)', where: `${LLM} AND cost_usd IS NOT NULL` },
  model: { type: 'categorical', expr: MODEL_EXPR, where: LLM },
  finish_reason: { type: 'categorical', expr: 'finish_reason', where: `${LLM} AND finish_reason != ''` },
  // An LLM call's status, as every other built-in reads LLM calls: over all spans, a rise in the
  // calls' errors was diluted by the chain, tool and HTTP spans around them (1% → 8% of calls read
  // as no drift in the demo).
  status: { type: 'categorical', expr: 'toString(status_code)', where: LLM },
  // These three describe the spans themselves, so they read every span (tool: tool spans).
  kind: { type: 'categorical', expr: 'toString(kind)', where: '1' },
  tool: { type: 'categorical', expr: 'toString(name)', where: "kind = 'tool'" },
  service: { type: 'categorical', expr: 'toString(service_name)', where: '1' },
  // A text signal's spans are those whose text is not empty (sets.ts adds the condition).
  prompt: { type: 'text', expr: 'input', where: LLM },
  completion: { type: 'text', expr: 'output', where: LLM },
  embedding: { type: 'embedding', expr: 'embedding', where: 'notEmpty(embedding)' },
}

export const DEFAULT_SIGNALS = [
  'input_tokens',
  'output_tokens',
  'latency',
  'ttft',
  'cost',
  'model',
  'finish_reason',
  'status',
  'prompt',
  'completion',
  'embedding',
]

const BUILTIN_SIGNALS = Object.keys(BUILTIN)

/**
 * Resolves a signal name: a built-in (see BUILTIN_SIGNALS), `score:<name>` (numeric
 * score value), `attr:<key>` / `attr_num:<key>` (string / numeric span attribute).
 * When the caller filters on kind explicitly, the built-ins' implicit kind = 'llm' is dropped.
 * An unknown name is a 400 naming `field`, where the request holds it (`signals[1]`).
 */
export function resolveSignal(signal: string, callerChoseKind: boolean, field: string): SignalSpec {
  const builtin = BUILTIN[signal]
  if (builtin) {
    const where = callerChoseKind ? builtin.where.replace(/kind = 'llm'( AND )?/, '').trim() || '1' : builtin.where
    return { signal, ...builtin, where }
  }
  const [prefix, ...rest] = signal.split(':')
  const key = rest.join(':')
  const unknown = () => errors.BAD_REQUEST(`${field}: unknown signal "${signal}"; expected one of ${BUILTIN_SIGNALS.join(', ')}, score:<name>, attr:<key> or attr_num:<key>`)
  if (key === '') throw unknown()
  switch (prefix) {
    case 'score':
      return { signal, type: 'numeric', expr: 'value', where: '1', score: key }
    case 'attr':
      return { signal, type: 'categorical', expr: 'attributes[{sig_key:String}]', where: 'mapContains(attributes, {sig_key:String})', params: { sig_key: key } }
    case 'attr_num':
      return {
        signal,
        type: 'numeric',
        expr: `assumeNotNull(${attributeNumber('{sig_key:String}')})`,
        where: `${attributeNumber('{sig_key:String}')} IS NOT NULL`,
        params: { sig_key: key },
      }
    default:
      throw unknown()
  }
}
