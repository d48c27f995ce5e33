import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { originAllowed, parseOriginRule, type OriginRule } from '../src/http/cors-origins.js'

const rules = (...entries: string[]): OriginRule[] =>
  entries.map((e) => {
    const r = parseOriginRule(e)
    if ('error' in r) throw new Error(r.error)
    return r
  })

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/)
const domain = fc.array(label, { minLength: 1, maxLength: 3 }).map((ls) => ls.join('.'))

describe('the origins SPANLENS_CORS_ORIGINS lets send', () => {
  it('takes an origin as browsers send it: scheme, host and a port other than the default', () => {
    const r = rules('https://app.example.com', 'http://localhost:5173', 'http://[::1]:8080')
    expect(originAllowed(r, 'https://app.example.com')).toBe(true)
    expect(originAllowed(r, 'https://APP.example.com')).toBe(true)
    expect(originAllowed(r, 'https://app.example.com:443')).toBe(true)
    expect(originAllowed(r, 'http://localhost:5173')).toBe(true)
    expect(originAllowed(r, 'http://[::1]:8080')).toBe(true)
    expect(originAllowed(r, 'http://app.example.com')).toBe(false)
    expect(originAllowed(r, 'https://app.example.com:8443')).toBe(false)
    expect(originAllowed(r, 'http://localhost:5174')).toBe(false)
    expect(originAllowed(r, 'http://localhost')).toBe(false)
    expect(originAllowed(r, 'null')).toBe(false)
    expect(originAllowed(r, '')).toBe(false)
  })

  it('a listed default port is the origin without it', () => {
    expect(originAllowed(rules('https://app.example.com:443'), 'https://app.example.com')).toBe(true)
    expect(originAllowed(rules('http://app.example.com:80'), 'http://app.example.com')).toBe(true)
  })

  it('* takes any origin a browser sends, and nothing that is not one', () => {
    const any = rules('*')
    expect(originAllowed(any, 'https://anything.test')).toBe(true)
    expect(originAllowed(any, 'http://localhost:3000')).toBe(true)
    expect(originAllowed(any, 'null')).toBe(false)
    expect(originAllowed(any, 'https://*.example.com')).toBe(false)
  })

  it('*.domain takes every subdomain at any depth, never the domain itself nor a name that only ends like it', () => {
    fc.assert(
      fc.property(domain, domain, label, (base, sub, other) => {
        const r = rules(`https://*.${base}`)
        expect(originAllowed(r, `https://${sub}.${base}`)).toBe(true)
        expect(originAllowed(r, `https://${base}`)).toBe(false)
        expect(originAllowed(r, `https://${other}${base}`)).toBe(false)
        expect(originAllowed(r, `http://${sub}.${base}`)).toBe(false)
        expect(originAllowed(r, `https://${sub}.${base}.evil.test`)).toBe(false)
      }),
    )
  })

  it('an Origin header is matched whole: nothing around a listed origin passes', () => {
    fc.assert(
      fc.property(domain, fc.string({ minLength: 1, maxLength: 8 }), (host, extra) => {
        const r = rules(`https://${host}`)
        for (const origin of [`https://${host}${extra}`, `${extra}https://${host}`, `https://${host}/${extra}`]) {
          if (origin.toLowerCase() === `https://${host}` || origin.toLowerCase() === `https://${host}:443`) continue
          expect(originAllowed(r, origin), origin).toBe(false)
        }
      }),
    )
  })

  it.each([
    ['https://app.example.com/', /an origin has no path \(drop "\/"\)/],
    ['https://app.example.com/ui', /an origin has no path \(drop "\/ui"\)/],
    ['app.example.com', /expected \* or an origin such as/],
    ['ftp://app.example.com', /expected \* or an origin/],
    ['https://app.*.com', /expected \* or an origin/],
    ['https://*', /expected \* or an origin/],
    ['https://*.[::1]', /an IP address has no subdomains/],
    ['http://localhost:0', /port 0 is not between 1 and 65535/],
    ['http://localhost:70000', /port 70000 is not between 1 and 65535/],
    ['null', /any page can claim it/],
  ])('refuses %s, saying why', (entry, why) => {
    const r = parseOriginRule(entry)
    expect('error' in r && r.error).toMatch(why)
  })
})
