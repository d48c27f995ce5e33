/**
 * SPANLENS_* variables the SDK does not read that are one or two letters from one it does,
 * while that one is unset: the app almost surely meant it. SPANLENS_ENDPONT for SPANLENS_ENDPOINT sent every span
 * to the default endpoint (another server, or none) without a word. A name near one the SDK
 * reads that is also set is another program's (the server's SPANLENS_API_KEYS beside the
 * SDK's SPANLENS_API_KEY in a shared .env), and is left alone.
 */
export function envMistakes(env: Record<string, string | undefined>, read: readonly string[]): string[] {
  const known = new Set(read)
  const out: string[] = []
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('SPANLENS_') || known.has(name) || env[name] === undefined || env[name] === '') continue
    const meant = read.filter((r) => (env[r] === undefined || env[r] === '') && withinTwoEdits(name, r))
    if (meant.length > 0) out.push(`${name} is not read by the SDK and is ignored; did you mean ${meant.join(' or ')}?`)
  }
  return out
}

/** Levenshtein distance ≤ 2, given up on as soon as a row exceeds it. */
function withinTwoEdits(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 2) return false
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)))
    }
    if (Math.min(...row) > 2) return false
    prev = row
  }
  return (prev[b.length] as number) <= 2
}
