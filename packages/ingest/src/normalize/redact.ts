import type { RedactRule } from '../config/schema.js'

/**
 * Ingest-side PII redaction (SPANLENS_REDACT). Applied to input, output and
 * every string attribute before anything reaches the spool or ClickHouse.
 * Patterns favour precision: a card number must pass the Luhn check, a phone
 * number needs 10+ digits with separators typical of phone numbers.
 */
const PATTERNS: Record<RedactRule, { re: RegExp; replace: (m: string) => string | null }> = {
  email: {
    re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g,
    replace: () => '[REDACTED_EMAIL]',
  },
  secret: {
    re: /\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}|pk-lf-[A-Za-z0-9-]{8,}|sk-lf-[A-Za-z0-9-]{8,}|AKIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{36}|gh[ousr]_[A-Za-z0-9]{36}|xox[abpr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})\b|\b[Bb]earer\s+[A-Za-z0-9._~+/-]{16,}=*/g,
    replace: () => '[REDACTED_SECRET]',
  },
  card: {
    re: /\b\d(?:[ -]?\d){12,18}\b/g,
    replace: (m) => (luhn(m.replace(/\D/g, '')) ? '[REDACTED_CARD]' : null),
  },
  phone: {
    re: /(?<![\w.])\+?\d{1,3}?[ .-]?\(?\d{2,4}\)?[ .-]\d{3,4}[ .-]\d{3,4}(?![\w])/g,
    replace: (m) => (m.replace(/\D/g, '').length >= 10 ? '[REDACTED_PHONE]' : null),
  },
}

// Secrets and cards first: their digits would otherwise be eaten as phone numbers.
const ORDER: RedactRule[] = ['secret', 'email', 'card', 'phone']

function luhn(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19) return false
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48
    if (i % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return sum % 10 === 0
}

export type Redactor = (text: string) => string

export function createRedactor(rules: RedactRule[]): Redactor | undefined {
  if (rules.length === 0) return undefined
  const active = ORDER.filter((r) => rules.includes(r)).map((r) => PATTERNS[r])
  // A cheap pre-check keeps the common case (no digit, no @) allocation-free.
  return (text) => {
    let out = text
    for (const p of active) {
      p.re.lastIndex = 0
      if (!p.re.test(out)) continue
      p.re.lastIndex = 0
      out = out.replace(p.re, (m) => p.replace(m) ?? m)
    }
    return out
  }
}
