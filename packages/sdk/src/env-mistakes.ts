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

/**
 * The CLI's SPANLENS_URL set where the SDK was given no endpoint (no option, no variable): a shell or
 * .env made for the CLI, whose spans would go to the default endpoint unsaid.
 */
export function cliEndpointMistake(env: Record<string, string | undefined>, endpointChosen: boolean, tracesUrl: string): string[] {
  if (endpointChosen || env.SPANLENS_URL === undefined || env.SPANLENS_URL === '') return []
  return [`SPANLENS_URL is the CLI's variable and is not read by the SDK; spans go to ${tracesUrl}: set SPANLENS_ENDPOINT, or init({ endpoint }), for the SDK`]
}
