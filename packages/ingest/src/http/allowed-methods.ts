/**
 * What the routes say of a path the router found no route for: the methods it has
 * routes for, so that a request by another method is told which to use (405 with
 * `Allow`) instead of that the route does not exist (`GET /api/v1/drift` or `GET
 * /v1/traces`, a common first try with curl, said "not found"); and, when a route of
 * the request's own method has the path, its parameter the router refused as longer
 * than its `maxParamLength` (then the router misses the route, or finds the console's
 * `/*`, which sends API paths here), which a 405 naming the request's own method
 * would only confuse. Wildcard routes are left out: every path would match them.
 */
export interface PathRoutes {
  /** methods with a route of this path, sorted */
  methods: string[]
  /** a parameter of a route of the request's method longer than the router takes, once decoded */
  overLong?: { name: string; length: number }
}

interface Compiled {
  method: string
  re: RegExp
  params: string[]
}

export function pathRoutes(routes: ReadonlyArray<{ method: string; url: string }>, maxParamLength: number): (method: string, path: string) => PathRoutes {
  let compiled: Compiled[] | undefined
  return (method, path) => {
    // Compiled at the first miss: routes are all registered by then, and most servers never miss.
    compiled ??= routes.filter((r) => !r.url.includes('*')).map(compile)
    const methods = new Set<string>()
    let overLong: PathRoutes['overLong']
    for (const r of compiled) {
      const m = r.re.exec(path)
      if (!m) continue
      methods.add(r.method)
      if (r.method !== method || overLong) continue
      const i = r.params.findIndex((_, k) => decoded(m[k + 1] ?? '').length > maxParamLength)
      if (i >= 0) overLong = { name: r.params[i]!, length: decoded(m[i + 1] ?? '').length }
    }
    return { methods: [...methods].sort(), ...(overLong ? { overLong } : {}) }
  }
}

/** A route's pattern: `:name` any one segment (captured), the rest literally. */
function compile(r: { method: string; url: string }): Compiled {
  const params: string[] = []
  const segments = r.url.split('/').map((s) => {
    if (!s.startsWith(':')) return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    params.push(s.slice(1))
    return '([^/]+)'
  })
  return { method: r.method, re: new RegExp(`^${segments.join('/')}$`), params }
}

/** As the router measures a parameter: decoded (one that does not decode, the router refuses before). */
function decoded(raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}
