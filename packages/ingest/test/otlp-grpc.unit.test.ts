import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { encodeRpcStatus } from '../src/otlp/encode-response.js'
import { decodeRichStatus } from './helpers/rpc-status.js'
import { tempDir } from './helpers/tmp.js'

describe('OTLP/gRPC configuration', () => {
  it('listens on 4317 beside HTTP, on the same host, by default', () => {
    expect(loadConfig({ env: {} }).grpc).toEqual({ host: '127.0.0.1', port: 4317 })
    expect(loadConfig({ env: { SPANLENS_HOST: '::1' } }).grpc).toEqual({ host: '::1', port: 4317 })
  })

  it('takes a free port when SPANLENS_PORT is 0, so servers on free ports do not all claim 4317', () => {
    expect(loadConfig({ env: { SPANLENS_PORT: '0' } }).grpc?.port).toBe(0)
    expect(loadConfig({ env: { SPANLENS_PORT: '0', SPANLENS_GRPC_PORT: '4400' } }).grpc?.port).toBe(4400)
  })

  it('SPANLENS_GRPC_PORT=off turns it off; SPANLENS_GRPC_HOST binds elsewhere', () => {
    expect(loadConfig({ env: { SPANLENS_GRPC_PORT: 'off' } }).grpc).toBeUndefined()
    expect(loadConfig({ env: { SPANLENS_GRPC_PORT: 'OFF' } }).grpc).toBeUndefined()
    expect(loadConfig({ env: { SPANLENS_GRPC_HOST: '0.0.0.0', SPANLENS_GRPC_PORT: '0' } }).grpc).toEqual({ host: '0.0.0.0', port: 0 })
  })

  it('TLS paths are resolved against the working directory', () => {
    const c = loadConfig({ env: { SPANLENS_GRPC_TLS_CERT: 'tls/cert.pem', SPANLENS_GRPC_TLS_KEY: '/etc/key.pem' }, cwd: '/srv/app' })
    expect(c.grpc?.tls).toEqual({ certPath: '/srv/app/tls/cert.pem', keyPath: '/etc/key.pem' })
  })

  it.each([
    ['SPANLENS_GRPC_PORT', 'abc', /SPANLENS_GRPC_PORT: expected a port between 0 and 65535, or off, got "abc"/],
    ['SPANLENS_GRPC_PORT', '70000', /SPANLENS_GRPC_PORT/],
    ['SPANLENS_GRPC_PORT', '-1', /SPANLENS_GRPC_PORT/],
    ['SPANLENS_GRPC_HOST', '  ', /SPANLENS_GRPC_HOST: expected a non-empty string/],
    ['SPANLENS_GRPC_TLS_CERT', 'cert.pem', /SPANLENS_GRPC_TLS_CERT and SPANLENS_GRPC_TLS_KEY: set both or neither/],
    ['SPANLENS_GRPC_TLS_KEY', 'key.pem', /SPANLENS_GRPC_TLS_CERT and SPANLENS_GRPC_TLS_KEY: set both or neither/],
  ])('rejects %s=%s naming the variable', (name, value, pattern) => {
    let err: unknown
    try {
      loadConfig({ env: { [name]: value } })
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: 'SPANLENS_CONFIG_INVALID' })
    expect((err as Error).message).toMatch(pattern)
  })

  it('a config file may give the port as a number', () => {
    const dir = tempDir()
    try {
      const file = join(dir.path, 'spanlens.yaml')
      writeFileSync(file, 'SPANLENS_GRPC_PORT: 4400\n')
      expect(loadConfig({ env: { SPANLENS_CONFIG_FILE: file } }).grpc?.port).toBe(4400)
    } finally {
      dir.cleanup()
    }
  })
})

describe('google.rpc.Status with RetryInfo (grpc-status-details-bin, OTLP/HTTP error bodies)', () => {
  it('carries the code, the message and a RetryInfo detail with the delay', () => {
    expect(decodeRichStatus(encodeRpcStatus(14, 'SPANLENS_SPOOL_FULL: the spool is full', 5))).toEqual({
      code: 14,
      message: 'SPANLENS_SPOOL_FULL: the spool is full',
      details: ['type.googleapis.com/google.rpc.RetryInfo'],
      retryDelaySeconds: 5,
    })
  })

  it('without a delay it is the plain Status, as before', () => {
    expect(decodeRichStatus(encodeRpcStatus(3, 'bad'))).toEqual({ code: 3, message: 'bad', details: [], retryDelaySeconds: undefined })
    expect(encodeRpcStatus(3, 'bad')).toEqual(Buffer.from([0x08, 0x03, 0x12, 0x03, 0x62, 0x61, 0x64]))
  })
})
