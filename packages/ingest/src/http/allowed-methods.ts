/**
 * The methods a path has routes for, so that a request by another method is told
 * which to use (405 with `Allow`) instead of that the route does not exist: `GET
 * /api/v1/drift` or `GET /v1/traces`, a common first try with curl, said "not found".
 * Wildcard routes (the console's `/*`) are left out: every path would match them.
 */
export function allowedMethods(routes: ReadonlyArray<{ method: string; url: string }>): (path: string) => string[] {
  let compiled: Array<{ method: string; re: RegExp }> | undefined
  return (path) => {
    // Compiled at the first miss: routes are all registered by then, and most servers never miss.
    compiled ??= routes
      .filter((r) => !r.url.includes('*'))
      .map((r) => ({ method: r.method, re: new RegExp(`^${r.url.split('/').map(segment).join('/')}$`) }))
    const methods = new Set<string>()
    for (const r of compiled) if (r.re.test(path)) methods.add(r.method)
    return [...methods].sort()
  }
}

/** A route's path segment as a pattern: `:name` any one segment, the rest literally. */
function segment(s: string): string {
  return s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
