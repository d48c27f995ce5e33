// The built-in redaction, for the server's SPANLENS_REDACT as well (@spanlens/sdk/redact):
// one definition of what an email, a phone number, a card and a key look like, and of
// redacting JSON text without breaking it.
export { ORDER, PATTERNS, type BuiltinPattern, type Pattern } from './redact-patterns.js'
export { redactEscaped } from './redact-escaped.js'
