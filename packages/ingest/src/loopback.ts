import { isIPv4, isIPv6 } from 'node:net'

/**
 * Whether binding `host` serves this machine only. Names are taken literally
 * (`localhost`), addresses by value: 127.0.0.0/8 and ::1, so `127.evil.example`,
 * a name that merely starts like one, is not loopback.
 */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  if (h === 'localhost') return true
  if (isIPv4(h)) return h.split('.')[0] === '127'
  if (isIPv6(h)) {
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h)?.[1]
    return v4 !== undefined ? v4.split('.')[0] === '127' : /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(h)
  }
  return false
}
