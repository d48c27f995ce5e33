import { parseArgs } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseCliArgs } from '../src/cli/args.js'

const options = { url: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const
const refusal = (args: string[], allowPositionals = true) => {
  try {
    parseCliArgs({ args, options, allowPositionals })
  } catch (err) {
    return (err as Error).message
  }
  return undefined
}

describe('spanlens command arguments', () => {
  it('names what is wrong with an argument in the CLI\'s words', () => {
    expect(refusal(['--bogus'])).toBe('unknown option --bogus')
    expect(refusal(['--bogus=3'])).toBe('unknown option --bogus')
    expect(refusal(['-hx'])).toBe('unknown option -x')
    expect(refusal(['--url'])).toBe('--url needs a value')
    expect(refusal(['--url', '--json'])).toBe('--url needs a value, got the option "--json" (a value that starts with "-" goes as --url=--json)')
    expect(refusal(['--json=yes'])).toBe('--json takes no value, got "yes"')
    expect(refusal(['now'], false)).toBe('unexpected argument "now"')
    expect(refusal(['--url', ''])).toBe('--url needs a value, got an empty one')
    expect(refusal(['--url='])).toBe('--url needs a value, got an empty one')
    expect(refusal(['--', '--url='])).toBeUndefined()
  })

  it('takes what strict parsing takes, unchanged', () => {
    const args = ['--url', 'http://h:1', '-h', 'x', '--', '--json']
    expect(parseCliArgs({ args, options, allowPositionals: true })).toEqual(parseArgs({ args, options, allowPositionals: true, strict: true }))
  })

  it('refuses exactly what strict parsing refuses, and an empty value, always with a message of its own', () => {
    const arg = fc.constantFrom('--url', '--url=-x', '--json', '--json=1', '-h', '-hx', '-x', '--bogus', 'word', '-', '--', '-1', '--url=')
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 5 }), fc.boolean(), (args, allowPositionals) => {
        let nodeRefuses = false
        try {
          parseArgs({ args, options, allowPositionals, strict: true })
        } catch {
          nodeRefuses = true
        }
        const ours = refusal(args, allowPositionals)
        // Strict parsing takes `--url=` (an empty value), which read as not given runs with the default.
        const empty = !nodeRefuses && parseArgs({ args, options, allowPositionals, strict: true, tokens: true }).tokens.some((t) => t.kind === 'option' && t.value === '')
        expect(ours !== undefined).toBe(nodeRefuses || empty)
        if (ours !== undefined) expect(ours).toMatch(/^(unknown option -|unexpected argument "|--\w+ (needs|takes) )/)
      }),
      { seed: 7, numRuns: 500 },
    )
  })
})
