import { describe, expect, it } from 'vitest'
import { observeApiPromise, type ResultHooks } from '../src/instrument/stainless.js'

const hooks = (): ResultHooks & { seen: string[] } => {
  const seen: string[] = []
  return { provider: 'test', seen, value: () => seen.push('value'), error: () => seen.push('error'), unparsed: () => seen.push('unparsed') }
}

/** A client promise shaped as Stainless makes them: the response first, parsed only when asked. */
class FakeApiPromise {
  responsePromise = Promise.resolve({ response: { status: 200 } })
  parsedPromise: unknown
  parseResponse(props: unknown) {
    return Promise.resolve({ parsed: props })
  }
  asResponse() {
    return this.responsePromise.then((p) => p.response)
  }
  then() {}
}

describe("the client's promise", () => {
  it('records a call read with .asResponse() from its response, the method its prototype has', async () => {
    const h = hooks()
    const p = observeApiPromise(new FakeApiPromise(), h)
    expect(await p.asResponse()).toEqual({ status: 200 })
    await new Promise((r) => setTimeout(r, 0))
    expect(h.seen).toEqual(['unparsed'])
  })

  it('leaves an asResponse of the instance itself as it is, and the app gets what it returns', async () => {
    const h = hooks()
    const own = Object.assign(new FakeApiPromise(), { asResponse: () => Promise.resolve('own') })
    const p = observeApiPromise(own, h)
    expect(Object.hasOwn(p, 'asResponse')).toBe(true)
    expect(await p.asResponse()).toBe('own')
  })
})
