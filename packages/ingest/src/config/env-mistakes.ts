/**
 * Settings the environment seems to have meant but the server does not read. A config
 * file refuses a key it does not know; the environment cannot, since it also carries
 * the SDK's and the CLI's variables (an app and its server often share one .env). So a
 * server warns at start, and only where a name is one or two letters from a setting
 * (RETENTON for RETENTION), or is the SDK's `SPANLENS_API_KEY` while the server has no
 * keys: either way what the operator meant is not in force.
 */

/** Variables other Spanlens programs read (the SDK's init(), the CLIs): never a server's typo. */
const OTHER_PROGRAMS = new Set([
  'SPANLENS_ENDPOINT',
  'SPANLENS_API_KEY',
  'SPANLENS_SERVICE_NAME',
  'SPANLENS_ENVIRONMENT',
  'SPANLENS_RELEASE',
  'SPANLENS_CAPTURE_CONTENT',
  'SPANLENS_SAMPLE_RATE',
  'SPANLENS_ENABLED',
  'SPANLENS_DEBUG',
  'SPANLENS_URL',
])

export function envMistakes(env: Record<string, string | undefined>, settings: readonly string[], keysConfigured: boolean): string[] {
  const known = new Set(settings)
  const out: string[] = []
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('SPANLENS_') || known.has(name) || OTHER_PROGRAMS.has(name) || env[name] === undefined) continue
    const near = settings.filter((s) => editDistance(name, s, 2) <= 2)
    if (near.length > 0) out.push(`${name} is not a setting and is ignored; did you mean ${near.join(' or ')}?`)
  }
  if (!keysConfigured && env.SPANLENS_API_KEY) {
    out.push('SPANLENS_API_KEY is the SDK’s variable (the key an app sends); the server reads SPANLENS_API_KEYS (project:key,...) and runs without keys')
  }
  return out
}

/** Levenshtein distance, or more than `max` as soon as it must be. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    let best = i
    for (let j = 1; j <= b.length; j++) {
      const d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1))
      row.push(d)
      best = Math.min(best, d)
    }
    if (best > max) return max + 1
    prev = row
  }
  return prev[b.length] as number
}
