import type { Command, OptionSpec } from './command.js'

/** Options every command takes. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  url: { type: 'string', value: 'URL', help: 'the server (default $SPANLENS_URL or http://127.0.0.1:4318)' },
  'api-key': { type: 'string', value: 'KEY', help: 'sent as Authorization: Bearer (default $SPANLENS_API_KEY)' },
  json: { type: 'boolean', help: "print the API's JSON reply instead of a table" },
  help: { type: 'boolean', help: 'this help' },
}

const EXIT_CODES = 'exit codes: 0 ok, 1 error, 2 SLO alert firing (slo check)'

function optionLines(options: Record<string, OptionSpec>): string[] {
  const flags = Object.entries(options).map(([name, o]) => [`--${name}${o.value ? ` ${o.value}` : ''}`, o.help] as const)
  const width = Math.max(0, ...flags.map(([f]) => f.length))
  return flags.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`)
}

/** `spanlens --help`: every command with its one-line summary. */
export function overviewHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length))
  return [
    'usage: spanlens <command> [options]      (queries a running Spanlens server over HTTP)',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'options of every command:',
    ...optionLines(COMMON_OPTIONS),
    '',
    'spanlens <command> --help shows its options and examples.',
    EXIT_CODES,
    '',
  ].join('\n')
}

/** `spanlens <command> --help`: synopsis, options, examples and notes, all from the command's row. */
export function commandHelp(c: Command): string {
  return [
    `spanlens ${c.name}: ${c.summary}`,
    '',
    'usage:',
    ...c.usage.map((u) => `  spanlens ${u}`),
    '',
    ...(Object.keys(c.options).length ? ['options:', ...optionLines(c.options), ''] : []),
    'options of every command:',
    ...optionLines(COMMON_OPTIONS),
    '',
    'examples:',
    ...c.examples.flatMap(([line, what]) => [`  spanlens ${line}`, `      ${what}`]),
    '',
    ...(c.notes ?? []),
    EXIT_CODES,
    '',
  ].join('\n')
}

/** The synopsis alone, printed under a usage error. */
export function usageLines(c: Command): string {
  return `usage:\n${c.usage.map((u) => `  spanlens ${u}`).join('\n')}\n(spanlens ${c.name} --help for options and examples)\n`
}
