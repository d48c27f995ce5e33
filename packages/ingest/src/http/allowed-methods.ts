/**
 * What the routes say of a path the router found no route for: the methods it has
 * routes for, so that a request by another method is told which to use (405 with
 * `Allow`) instead of that the route does not exist (`GET /api/v1/drift` or `GET
 * /v1/traces`, a common first try with curl, said "not found"); and, when a route of
 * the request's own method has the path, its parameter the router refused as longer
 * than its `maxParamLength` (then the router misses the route, or finds the console's
 * `/*`, which sends API paths here), which a 405 naming the request's own method
 * would only confuse. Wildcard routes are left out: every path would match them.
 * The routes of the request's own method whose pattern the path has are returned too:
 * a request one of them would take if the router could read its path (an over-long
 * parameter, an escape that does not decode) is answered as that route would answer a
 * caller without a key (http/unrouted.ts).
 */
export interface PathRoutes<T> {
  /** methods with a route of this path, sorted */
  methods: string[]
  /** the routes of the request's own method whose pattern the path has */
  own: T[]
  /** a parameter of a route of the request's method longer than the router takes, once decoded */
  overLong?: { name: string; length: number }
}

interface Compiled<T> {
  route: T
  /** per segment: a literal to equal once decoded, or a parameter's name */
  segments: Array<{ literal: string } | { param: string }>
}

export function pathRoutes<T extends { method: string; url: string }>(routes: readonly T[], maxParamLength: number): (method: string, path: string) => PathRoutes<T> {
  let compiled: Array<Compiled<T>> | undefined
  return (method, path) => {
    // Compiled at the first miss: routes are all registered by then, and most servers never miss.
    compiled ??= routes.filter((r) => !r.url.includes('*')).map(compile)
    const parts = path.split('/')
    const methods = new Set<string>()
    const own: T[] = []
    let overLong: PathRoutes<T>['overLong']
    for (const r of compiled) {
      const params = match(r, parts)
      if (!params) continue
      methods.add(r.route.method)
      if (r.route.method !== method) continue
      own.push(r.route)
      overLong ??= params.map(([name, raw]) => ({ name, length: decoded(raw).length })).find((p) => p.length > maxParamLength)
    }
    return { methods: [...methods].sort(), own, ...(overLong ? { overLong } : {}) }
  }
}

/**
 * A route's pattern: `:name` any one non-empty segment, the rest literally, compared
 * decoded as the router compares them (`/api/v%31/traces` is `/api/v1/traces`).
 */
function compile<T extends { url: string }>(route: T): Compiled<T> {
  return { route, segments: route.url.split('/').map((s) => (s.startsWith(':') ? { param: s.slice(1) } : { literal: s })) }
}

/** The route's parameters, by name and as written, if the path has its pattern. */
function match<T>(r: Compiled<T>, parts: readonly string[]): Array<[string, string]> | undefined {
  if (parts.length !== r.segments.length) return undefined
  const params: Array<[string, string]> = []
  for (const [i, s] of r.segments.entries()) {
    const part = parts[i] ?? ''
    if ('param' in s) {
      if (part === '') return undefined
      params.push([s.param, part])
    } else if (part !== s.literal && decoded(part) !== s.literal) return undefined
  }
  return params
}

/** As the router reads a segment: decoded (one that does not decode, the router refuses before). */
function decoded(raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}
