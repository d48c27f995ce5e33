import type { ParseArgsConfig } from 'node:util'
import { apiClient } from './api.js'
import { parseCliArgs } from './args.js'
import { CliError, type Command, type CommandContext, type OptionSpec } from './command.js'
import { COMMANDS } from './commands.js'
import { COMMON_OPTIONS, commandHelp, overviewHelp, usageLines } from './help.js'

export interface CliIo {
  stdout?: (text: string) => void
  stderr?: (text: string) => void
  fetch?: typeof fetch
  env?: Record<string, string | undefined>
}

/**
 * `spanlens traces|drift|bias|slo|sql`, talking to a running server over HTTP.
 * The command table (commands.ts) drives parsing, `--help` and dispatch.
 */
export async function runCli(argv: string[], io: CliIo = {}): Promise<number> {
  const out = io.stdout ?? ((t: string) => process.stdout.write(t))
  const err = io.stderr ?? ((t: string) => process.stderr.write(t))
  const env = io.env ?? process.env

  const name = commandName(argv)
  if (name === undefined || name === 'help') {
    const topic = name === 'help' ? argv[argv.indexOf('help') + 1] : undefined
    const command = COMMANDS.find((c) => c.name === topic)
    if (command) {
      out(commandHelp(command))
      return 0
    }
    const asked = name === 'help' || argv.includes('--help') || argv.includes('-h')
    ;(asked ? out : err)(overviewHelp(COMMANDS))
    return asked ? 0 : 1
  }
  const command = COMMANDS.find((c) => c.name === name)
  if (!command) {
    err(`unknown command ${name}\n${overviewHelp(COMMANDS)}`)
    return 1
  }

  let values: Record<string, string | boolean | undefined>
  let positionals: string[]
  try {
    ;({ values, positionals } = parseCliArgs({ args: argv, allowPositionals: true, options: parseOptions(command) }) as { values: typeof values; positionals: string[] })
  } catch (e) {
    err(`spanlens ${command.name}: ${(e as Error).message}\n${usageLines(command)}`)
    return 1
  }
  if (values.help) {
    out(commandHelp(command))
    return 0
  }

  const base = ((values.url as string | undefined) ?? env.SPANLENS_URL ?? 'http://127.0.0.1:4318').replace(/\/+$/, '')
  const key = (values['api-key'] as string | undefined) ?? env.SPANLENS_API_KEY
  const keyFrom = values['api-key'] !== undefined ? '--api-key' : key !== undefined ? 'SPANLENS_API_KEY' : undefined
  const str = (option: string) => values[option] as string | undefined
  const ctx: CommandContext = {
    args: positionals.slice(positionals.indexOf(command.name) + 1),
    str,
    int(option) {
      const raw = str(option)
      if (raw === undefined) return undefined
      if (!/^\d+$/.test(raw)) throw new CliError(`--${option}: expected a whole number, got ${JSON.stringify(raw)}`)
      return Number(raw)
    },
    json: values.json === true,
    call: apiClient(base, key, io.fetch ?? fetch, keyFrom),
    out,
    err,
  }
  const maxArgs = command.maxArgs ?? 0
  if (ctx.args.length > maxArgs) {
    const extra = ctx.args.slice(maxArgs).map((a) => JSON.stringify(a)).join(' ')
    err(`spanlens ${command.name}: unexpected argument${ctx.args.length - maxArgs > 1 ? 's' : ''} ${extra}\n${usageLines(command)}`)
    return 1
  }
  try {
    // Whole numbers and lists are checked before any request is sent.
    for (const [option, spec] of Object.entries(command.options)) {
      if (spec.int) ctx.int(option)
      if (spec.list && str(option)?.split(',').some((item) => item.trim() === '')) throw new CliError(`--${option}: expected values separated by commas, got an empty one`)
    }
    return await command.run(ctx)
  } catch (e) {
    if (e instanceof CliError) {
      err(`spanlens ${command.name}: ${e.message}\n`)
      return 1
    }
    throw e
  }
}

/** The first positional, skipping the common options and their values (`--url U traces`). */
function commandName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--') return argv[i + 1]
    if (!a.startsWith('-')) return a
    const option = COMMON_OPTIONS[a.replace(/^--?/, '')]
    if (option?.type === 'string' && !a.includes('=')) i++
  }
  return undefined
}

function parseOptions(command: Command): NonNullable<ParseArgsConfig['options']> {
  const all: Record<string, OptionSpec> = { ...COMMON_OPTIONS, ...command.options }
  return Object.fromEntries(Object.entries(all).map(([name, o]) => [name, { type: o.type, ...(name === 'help' ? { short: 'h' } : {}) }]))
}
