/** One CLI command as a row of the command table (commands.ts): parsing, `--help` and dispatch read it. */
export interface Command {
  name: string
  /** One line for `spanlens --help`. */
  summary: string
  /** Synopsis lines, each after `spanlens `. */
  usage: string[]
  options: Record<string, OptionSpec>
  /** How many positionals it takes at most (a trace id, a subcommand); more fail before any request. Default 0. */
  maxArgs?: number
  /** Command lines (after `spanlens `) with what each does. */
  examples: Array<[line: string, what: string]>
  notes?: string[]
  run(ctx: CommandContext): Promise<number>
}

export interface OptionSpec {
  type: 'string' | 'boolean'
  /** Placeholder shown in help for a string value. */
  value?: string
  help: string
  /** A whole number ≥ 0; anything else fails before a request is sent. */
  int?: boolean
  /** A comma list: an empty item (`a,,b`) fails before a request is sent, as an empty value does (args.ts). */
  list?: boolean
}

export interface CommandContext {
  /** Positionals after the command name (`slo check` → ['check']). */
  args: string[]
  str(name: string): string | undefined
  int(name: string): number | undefined
  json: boolean
  call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown>
  out(text: string): void
  err(text: string): void
}

/** A user-facing failure: printed as `spanlens <command>: <message>`, exit code 1. */
export class CliError extends Error {}

/** Time values everywhere in the CLI: the API's time syntax. */
export const TIME_SYNTAX = 'T: ISO-8601 (2026-12-04T09:00:00Z), epoch milliseconds, now, or now-<n><s|m|h|d|w> (now-15m, now-7d)'
