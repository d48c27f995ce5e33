import { REDACTED_NAMES } from './attributes.js'
import { diag } from './diag.js'
import { redactEscaped } from './redact-escaped.js'
import { ORDER, PATTERNS, type BuiltinPattern } from './redact-patterns.js'

export type { BuiltinPattern }

/** A user redaction step: gets one captured string, returns what may leave the process. */
export type RedactFn = (value: string, info: { attribute: string }) => string
/**
 * `true` (default): built-in patterns. `false`: nothing. A function: built-ins then it.
 * An object picks built-ins and adds custom steps.
 */
export type RedactOption =
  | boolean
  | RedactFn
  | { builtins?: boolean | BuiltinPattern[]; custom?: RedactFn | RedactFn[] }

export interface Redactor {
  (value: string, attribute: string): string
}

/** Placeholder for a value whose custom hook threw: failing closed means the raw text never leaves. */
const REDACTION_FAILED = '[REDACTION_FAILED]'

export function createRedactor(config: { builtins: BuiltinPattern[]; custom: RedactFn[] }): Redactor | undefined {
  const builtins = ORDER.filter((p) => config.builtins.includes(p)).map((p) => PATTERNS[p])
  const custom = config.custom
  if (builtins.length === 0 && custom.length === 0) return undefined
  return (value, attribute) => {
    let out = builtins.length > 0 ? redactEscaped(value, builtins) : value
    for (const step of custom) {
      try {
        const next = step(out, { attribute })
        out = typeof next === 'string' ? next : String(next)
      } catch (err) {
        diag.stats.redactionFailures++
        diag.warnOnce(`redact hook threw on ${attribute}; value replaced: ${err instanceof Error ? err.message : String(err)}`)
        return REDACTION_FAILED
      }
    }
    return out
  }
}

/**
 * What can carry user content, by name: only these go through redaction. An exception's message and its
 * stack trace (whose first line is the message), the status message, a score's comment and label hold
 * whatever text the app's error or feedback held.
 */
export function isContentAttribute(key: string): boolean {
  return (
    key === 'gen_ai.input.messages' ||
    key === 'gen_ai.output.messages' ||
    key === 'gen_ai.system_instructions' ||
    key === 'gen_ai.tool.call.arguments' ||
    key === 'gen_ai.tool.call.result' ||
    key === 'gen_ai.tool.definitions' ||
    key === 'input.value' ||
    key === 'output.value' ||
    key === 'exception.message' ||
    key === 'exception.stacktrace' ||
    key === REDACTED_NAMES.statusMessage ||
    key === REDACTED_NAMES.scoreComment ||
    key === REDACTED_NAMES.scoreLabel ||
    key.startsWith('spanlens.metadata.')
  )
}
