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

/** An origin (or a listed one, with `*.`) in its parts, as browsers write it: lower case, no default port. */
function originParts(text: string): { scheme: 'http' | 'https'; star: boolean; host: string; port: string } | undefined {
  const m = ORIGIN.exec(text.toLowerCase())
  if (!m) return undefined
  const [, scheme, star, host, port] = m as unknown as [string, 'http' | 'https', string | undefined, string, string | undefined]
  return { scheme, star: star !== undefined, host, port: port === undefined || port === DEFAULT_PORTS[scheme] ? '' : port }
}

/** One entry of the list as written, or why it is not an origin (named at start, config/schema.ts). */
export function parseOriginRule(entry: string): OriginRule | { error: string } {
  const text = entry.trim()
  if (text === '*') return { any: true }
  if (text.toLowerCase() === 'null') return { error: `"null": sandboxed pages and file:// send it, so any page can claim it` }
  const o = originParts(text)
  if (!o) {
    const path = /^https?:\/\/[^/]+(\/.*)$/i.exec(text)?.[1]
    if (path) return { error: `"${text}": an origin has no path (drop "${path}")` }
    return { error: `"${text}": expected * or an origin such as https://app.example.com, http://localhost:5173 or https://*.example.com` }
  }
  if (o.star && o.host.startsWith('[')) return { error: `"${text}": an IP address has no subdomains` }
  if (o.port !== '' && (Number(o.port) < 1 || Number(o.port) > 65535)) return { error: `"${text}": port ${o.port} is not between 1 and 65535` }
  return { any: false, scheme: o.scheme, host: o.host, subdomains: o.star, port: o.port }
}

/** Whether `origin` (a request's `Origin` header) is one the rules let send. */
export function originAllowed(rules: readonly OriginRule[], origin: string): boolean {
  const o = originParts(origin)
  // A wildcard in the header itself is no origin a browser sends.
  if (!o || o.star) return false
  return rules.some((r) => r.any || (r.scheme === o.scheme && r.port === o.port && (r.subdomains ? o.host.endsWith(`.${r.host}`) : o.host === r.host)))
}
