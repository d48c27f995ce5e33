import { describe, expect, it } from 'vitest'
import { observeApiPromise, observeStream, type ResultHooks, type StreamHooks } from '../src/instrument/stainless.js'

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

/** A Stream shaped as Stainless makes them: its iterator fails with `err`, and aborts its own controller on the way out first, as the clients' do. */
function failingStream(err: unknown, controller = new AbortController()) {
  return {
    controller,
    async *iterator() {
      try {
        yield { n: 1 }
        throw err
      } finally {
        controller.abort()
      }
    },
  }
}

const streamHooks = (): StreamHooks & { seen: string[] } => {
  const seen: string[] = []
  return { provider: 'test', seen, chunk: () => seen.push('chunk'), done: () => seen.push('done'), error: () => seen.push('error'), abort: () => seen.push('abort') }
}

async function consume(stream: { iterator: () => AsyncIterator<unknown> }): Promise<void> {
  const it = stream.iterator()
  try {
    while (!(await it.next()).done);
  } catch {
    // The consumer's to handle; the hooks saw it first.
  }
}

describe("the client's stream", () => {
  it('ends as an error when it fails with an error, though the client aborted its controller before the error reached the consumer', async () => {
    const h = streamHooks()
    await consume(observeStream(failingStream(new TypeError('terminated')), h))
    expect(h.seen).toEqual(['chunk', 'error'])
  })

  it.each([
    ['an AbortError', Object.assign(new Error('This operation was aborted'), { name: 'AbortError' })],
    ["the client's APIUserAbortError", new (class APIUserAbortError extends Error {})('Request was aborted.')],
  ])('ends as aborted when it fails with %s', async (_case, err) => {
    const h = streamHooks()
    await consume(observeStream(failingStream(err), h))
    expect(h.seen).toEqual(['chunk', 'abort'])
  })

  it('ends as aborted when it fails with the reason the app aborted it with', async () => {
    const h = streamHooks()
    const controller = new AbortController()
    const reason = new Error('user left')
    controller.abort(reason)
    await consume(observeStream(failingStream(reason, controller), h))
    expect(h.seen).toEqual(['chunk', 'abort'])
  })
})
