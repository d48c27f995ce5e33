import { PATTERNS as SDK_PATTERNS, redactEscaped, type Pattern } from '@spanlens/sdk/redact'
import type { RedactRule } from '../config/schema.js'

/**
 * Ingest-side PII redaction (SPANLENS_REDACT). Applied to input, output and
 * every string attribute before anything reaches the spool or ClickHouse.
 * The rules' patterns: the SDK's built-ins for email, card and phone (one definition
 * of each; a card must pass the Luhn check, per 13–19-digit stretch of a digit run),
 * and the server's own wider list of secrets (Langfuse keys, JWTs, bearer tokens
 * besides the providers' keys).
 */
const PATTERNS: Record<RedactRule, Pattern> = {
  secret: {
    re: /\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}|pk-lf-[A-Za-z0-9-]{8,}|sk-lf-[A-Za-z0-9-]{8,}|AKIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{36}|gh[ousr]_[A-Za-z0-9]{36}|xox[abpr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})\b|\b[Bb]earer\s+[A-Za-z0-9._~+/-]{16,}=*/g,
    replace: () => '[REDACTED_SECRET]',
  },
  email: SDK_PATTERNS.email,
  card: SDK_PATTERNS.card,
  phone: SDK_PATTERNS.phone,
}

// Secrets and cards first: their digits would otherwise be eaten as phone numbers.
const ORDER: RedactRule[] = ['secret', 'email', 'card', 'phone']

export type Redactor = (text: string) => string

export function createRedactor(rules: RedactRule[]): Redactor | undefined {
  if (rules.length === 0) return undefined
  const active = ORDER.filter((r) => rules.includes(r)).map((r) => PATTERNS[r])
  // Input and output are JSON text: the patterns run on it with its escapes decoded, and it stays JSON
  // (a key after a line break, "\nsk-…", was missed: `\b` fell between the escape's `n` and the key).
  return (text) => redactEscaped(text, active)
}
