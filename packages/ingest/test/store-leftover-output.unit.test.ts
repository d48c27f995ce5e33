import { describe, expect, it } from 'vitest'
import { errors } from '../src/errors.js'
import { LeftoverGuard } from '../src/store/store-leftover-output.js'

/** A session whose drain query answers from `answers` in turn ('fail' throws; a function gets the SQL). */
function guardWith(answers: Array<'fail' | ((sql: string) => string)>) {
  const drains: string[] = []
  const guard = new LeftoverGuard(
    async (sql) => {
      drains.push(sql)
      const next = answers.shift() ?? ((s: string) => `${/'(.*)'/.exec(s)?.[1]}\n`)
      if (next === 'fail') throw new Error('engine down')
      return next(sql)
    },
    (reason, cause) => errors.STORE_UNREACHABLE('embedded:/x', reason, { cause }),
  )
  return { guard, drains }
}
const marker = (sql: string) => /'(.*)'/.exec(sql)?.[1] as string

describe('leftover guard', () => {
  it('counts the bytes before its marker as discarded', async () => {
    const { guard } = guardWith([(sql) => `{"row":1}\n${marker(sql)}\n`])
    await expect(guard.run(() => Promise.reject(new Error('query failed')))).rejects.toThrow('query failed')
    expect(guard.discardedBytes).toBe('{"row":1}\n'.length)
  })

  it('when the drain fails, the caller keeps its own error and no later call runs until a drain succeeds', async () => {
    const { guard, drains } = guardWith(['fail', 'fail'])
    await expect(guard.run(() => Promise.reject(new Error('query failed')))).rejects.toThrow('query failed')
    let ran = false
    const next = () => {
      ran = true
      return Promise.resolve('ok')
    }
    await expect(guard.run(next)).rejects.toMatchObject({ code: 'SPANLENS_STORE_UNREACHABLE' })
    expect(ran).toBe(false)
    await expect(guard.run(next)).resolves.toBe('ok')
    expect(drains).toHaveLength(3)
  })

  it('a drain whose output does not end with its marker does not count as clean', async () => {
    const { guard } = guardWith([(sql) => `${marker(sql)}\n{"late":1}\n`])
    await expect(guard.run(() => Promise.reject(new Error('query failed')))).rejects.toThrow('query failed')
    await expect(guard.run(() => Promise.resolve('ok'))).resolves.toBe('ok')
    expect(guard.drains).toBe(2)
  })
})
