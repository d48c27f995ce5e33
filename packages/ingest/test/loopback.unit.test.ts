import { describe, expect, it } from 'vitest'
import { isLoopback } from '../src/loopback.js'

describe('a server without keys binds loopback only', () => {
  it('takes 127.0.0.0/8, ::1 and localhost as loopback, and no name that only starts like an address', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(isLoopback(host), host).toBe(true)
    for (const host of ['127.evil.example', '127.0.0.1.nip.io', '0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1', '::ffff:10.0.0.1']) {
      expect(isLoopback(host), host).toBe(false)
    }
  })
})
