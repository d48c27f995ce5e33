import { parseArgs, type ParseArgsConfig } from 'node:util'

type StrictConfig = Omit<ParseArgsConfig, 'strict' | 'tokens'>

/**
 * node:util's parseArgs, strict, with its refusals in the CLI's words. Node's own
 * texts are written for script authors and one of them ends in an unbalanced quote
 * (`… as in '-- "--bogus"`); a user of `spanlens` needs the option and what is wrong
 * with it. Every `spanlens` command parses its arguments here. An empty value
 * (`--signals ""`) is refused too, which Node takes: read as not given, it ran the
 * command with the option's default.
 */
export function parseCliArgs<T extends StrictConfig>(config: T): ReturnType<typeof parseArgs<T & { strict: true }>> {
  let parsed: ReturnType<typeof parseArgs<T & { strict: true }>>
  try {
    parsed = parseArgs({ ...config, strict: true })
  } catch (err) {
    throw new Error(argsProblem(config) ?? (err as Error).message, { cause: err })
  }
  const empty = emptyValue(config)
  if (empty !== undefined) throw new Error(empty)
  return parsed
}

/** The first option given an empty value, in the CLI's words. */
function emptyValue(config: StrictConfig): string | undefined {
  // Read after strict parsing took the arguments: the same tokens, typed for any options.
  const { tokens } = parseArgs({ ...config, strict: false, allowPositionals: true, tokens: true })
  for (const token of tokens) if (token.kind === 'option' && token.value === '') return `${token.rawName} needs a value, got an empty one`
  return undefined
}

/** What strict parsing refuses, found again in parseArgs' tokens (which say which argument it was). */
function argsProblem(config: StrictConfig): string | undefined {
  const options = config.options ?? {}
  const { tokens } = parseArgs({ ...config, strict: false, allowPositionals: true, tokens: true })
  for (const token of tokens) {
    if (token.kind === 'positional' && !config.allowPositionals) return `unexpected argument ${JSON.stringify(token.value)}`
    if (token.kind !== 'option') continue
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined
    if (!spec) return `unknown option ${token.rawName}`
    if (spec.type === 'boolean' && token.inlineValue) return `${token.rawName} takes no value, got ${JSON.stringify(token.value)}`
    if (spec.type === 'string' && token.value === undefined) return `${token.rawName} needs a value`
    // `--url --json`: strict parsing will not take an option as a value.
    if (spec.type === 'string' && !token.inlineValue && token.value?.startsWith('-'))
      return `${token.rawName} needs a value, got the option ${JSON.stringify(token.value)} (a value that starts with "-" goes as ${token.rawName}=${token.value})`
  }
  return undefined
}
