/**
 * A small ClickHouse lexer, used only to *locate* tokens for the rewrite and to find
 * statement separators. It never decides what is allowed: ClickHouse's own parser
 * (EXPLAIN AST) does, on the original and on the rewritten text, before its analyzer
 * (EXPLAIN QUERY TREE) runs anything. A lexing mistake can therefore only make a query
 * fail, not escape.
 */
export interface Token {
  kind: 'ident' | 'quoted_ident' | 'string' | 'number' | 'punct' | 'ws' | 'comment' | 'other'
  text: string
  /** identifier value without quotes */
  value: string
}

export function lex(sql: string): Token[] {
  const out: Token[] = []
  let i = 0
  const push = (kind: Token['kind'], start: number, value?: string) => {
    const text = sql.slice(start, i)
    out.push({ kind, text, value: value ?? text })
  }
  while (i < sql.length) {
    const start = i
    const ch = sql[i] as string
    const next = sql[i + 1]
    if (/\s/.test(ch)) {
      while (i < sql.length && /\s/.test(sql[i] as string)) i++
      push('ws', start)
    } else if ((ch === '-' && next === '-') || (ch === '#' && (next === ' ' || next === '!'))) {
      while (i < sql.length && sql[i] !== '\n') i++
      push('comment', start)
    } else if (ch === '/' && next === '*') {
      let depth = 0
      while (i < sql.length) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++
          i += 2
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--
          i += 2
          if (depth === 0) break
        } else i++
      }
      push('comment', start)
    } else if (ch === "'" || ch === '"' || ch === '`') {
      i++
      let value = ''
      while (i < sql.length) {
        const c = sql[i] as string
        if (c === '\\') {
          const [decoded, length] = escapeAt(sql, i)
          value += decoded
          i += length
        } else if (c === ch && sql[i + 1] === ch) {
          value += ch
          i += 2
        } else if (c === ch) {
          i++
          break
        } else {
          value += c
          i++
        }
      }
      push(ch === "'" ? 'string' : 'quoted_ident', start, value)
    } else if (ch === '$') {
      const m = /^\$([A-Za-z0-9_]*)\$/.exec(sql.slice(i))
      if (m) {
        const tag = m[0]
        const end = sql.indexOf(tag, i + tag.length)
        i = end < 0 ? sql.length : end + tag.length
        push('string', start)
      } else {
        i++
        push('other', start)
      }
    } else if (/[A-Za-z_]/.test(ch)) {
      while (i < sql.length && /[A-Za-z0-9_$]/.test(sql[i] as string)) i++
      push('ident', start)
    } else if (/[0-9]/.test(ch)) {
      while (i < sql.length && /[0-9A-Za-z_.]/.test(sql[i] as string)) i++
      push('number', start)
    } else {
      i++
      push('punct', start)
    }
  }
  return out
}

/** ClickHouse's one-character escapes (parseEscapeSequence in its ReadHelpers). */
const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', e: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '0': '\0' }
/** After these (and control characters) the backslash is dropped; after any other ClickHouse keeps it: 'a\d', 'a\_'. */
const DROPS_BACKSLASH = new Set(['\\', "'", '"', '`'])

/**
 * The text of the escape at sql[i] (a backslash) inside quotes, and its length, as ClickHouse
 * reads it: `\x61` is `a`, so `sp\x61ns` in backquotes names the table spans.
 */
function escapeAt(sql: string, i: number): [string, number] {
  const c = sql[i + 1]
  if (c === undefined) return ['', 1]
  if (c === 'x' && /^[0-9A-Fa-f]{2}$/.test(sql.slice(i + 2, i + 4))) return [String.fromCharCode(parseInt(sql.slice(i + 2, i + 4), 16)), 4]
  if (c === 'N') return ['', 2]
  const decoded = ESCAPES[c]
  if (decoded !== undefined) return [decoded, 2]
  return [DROPS_BACKSLASH.has(c) || c < ' ' || c === '\x7f' ? c : `\\${c}`, 2]
}

export const significant = (t: Token): boolean => t.kind !== 'ws' && t.kind !== 'comment'
