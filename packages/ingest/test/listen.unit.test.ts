import { describe, expect, it } from 'vitest'
import { listenError } from '../src/listen.js'

const failure = (code: string) => Object.assign(new Error(`listen ${code}`), { code })

describe('an address the server cannot listen on', () => {
  it.each([
    ['EADDRINUSE', 'HTTP', 'SPANLENS_HTTP_PORT_IN_USE', 'SPANLENS_PORT'],
    ['EADDRINUSE', 'gRPC', 'SPANLENS_GRPC_PORT_IN_USE', 'SPANLENS_GRPC_PORT'],
    ['EACCES', 'HTTP', 'SPANLENS_PORT_FORBIDDEN', 'SPANLENS_PORT'],
    ['EACCES', 'gRPC', 'SPANLENS_PORT_FORBIDDEN', 'SPANLENS_GRPC_PORT'],
    ['EADDRNOTAVAIL', 'HTTP', 'SPANLENS_HOST_UNAVAILABLE', 'SPANLENS_HOST'],
    ['ENOTFOUND', 'gRPC', 'SPANLENS_HOST_UNAVAILABLE', 'SPANLENS_GRPC_HOST'],
  ] as const)('%s on %s is %s, naming %s, with the cause kept', (errno, transport, code, setting) => {
    const cause = failure(errno)
    const err = listenError(cause, { transport, host: '127.0.0.1', port: 80 })
    expect(err?.code).toBe(code)
    expect(err?.message).toContain(setting)
    expect(err?.cause).toBe(cause)
  })

  it('any other failure is left as it is', () => {
    expect(listenError(failure('EMFILE'), { transport: 'HTTP', host: '127.0.0.1', port: 4318 })).toBeUndefined()
    expect(listenError('not an error', { transport: 'HTTP', host: '127.0.0.1', port: 4318 })).toBeUndefined()
  })
})
