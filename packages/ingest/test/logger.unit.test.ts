import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { errors } from '../src/errors.js'
import { createLogger } from '../src/logger.js'

describe('the server log', () => {
  it("writes an error's message once, with its cause nested under it (message and stack)", () => {
    const lines: Array<{ msg: string; err: { message: string; stack: string; cause?: { message: string; stack: string } } }> = []
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)) as (typeof lines)[number])
        done()
      },
    })
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, stat '/nonexistent.yaml'"), { code: 'ENOENT' })
    const err = errors.SLO_FILE_INVALID('/nonexistent.yaml', enoent.message, { cause: enoent })
    createLogger('info', sink).error({ err }, 'request failed')
    expect(lines).toHaveLength(1)
    const logged = lines[0]!.err
    expect(logged.message).toBe("SLO file /nonexistent.yaml is invalid: ENOENT: no such file or directory, stat '/nonexistent.yaml'")
    expect(logged.cause).toMatchObject({ message: enoent.message, stack: expect.stringContaining('logger.unit.test.ts') })
  })
})
