/**
 * The origins SPANLENS_CORS_ORIGINS lets browsers send from, and the match of a
 * request's `Origin` against them. An origin is what browsers send: `scheme://host`
 * with the port only when it is not the scheme's default, host in lower case.
 * A listed origin may widen its host to every subdomain (`https://*.example.com`,
 * which does not take `https://example.com` itself), or be `*` (any origin).
 */
export type OriginRule = { any: true } | { any: false; scheme: 'http' | 'https'; host: string; subdomains: boolean; port: string }

const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' }
const ORIGIN = /^(https?):\/\/(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/

/** One entry of the list as written, or why it is not an origin (named at start, config/schema.ts). */
export function parseOriginRule(entry: string): OriginRule | { error: string } {
  const text = entry.trim()
  if (text === '*') return { any: true }
  if (text.toLowerCase() === 'null') return { error: `"null": sandboxed pages and file:// send it, so any page can claim it` }
  const m = ORIGIN.exec(text.toLowerCase())
  if (!m) {
    const path = /^https?:\/\/[^/]+(\/.*)$/i.exec(text)?.[1]
    if (path) return { error: `"${text}": an origin has no path (drop "${path}")` }
    return { error: `"${text}": expected * or an origin such as https://app.example.com, http://localhost:5173 or https://*.example.com` }
  }
  const [, scheme, star, host, port] = m as unknown as [string, 'http' | 'https', string | undefined, string, string | undefined]
  if (star && host.startsWith('[')) return { error: `"${text}": an IP address has no subdomains` }
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return { error: `"${text}": port ${port} is not between 1 and 65535` }
  return { any: false, scheme, host, subdomains: star !== undefined, port: port === undefined || port === DEFAULT_PORTS[scheme] ? '' : port }
}

/** Whether `origin` (a request's `Origin` header) is one the rules let send. */
export function originAllowed(rules: readonly OriginRule[], origin: string): boolean {
  const m = ORIGIN.exec(origin.toLowerCase())
  // A wildcard in the header itself is no origin a browser sends.
  if (!m || m[2] !== undefined) return false
  const scheme = m[1] as string
  const host = m[3] as string
  const port = m[4] === undefined || m[4] === DEFAULT_PORTS[scheme] ? '' : m[4]
  return rules.some(
    (r) => r.any || (r.scheme === scheme && r.port === port && (r.subdomains ? host.endsWith(`.${r.host}`) : host === r.host)),
  )
}
