import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

/**
 * Statuses a reverse proxy or load balancer answers for its upstream: none answered (502), none
 * is up or admitted (503), none answered in time (504). ClickHouse itself answers /ping 200 "Ok.",
 * and its own errors carry X-ClickHouse-Exception-Code.
 */
const GATEWAY_STATUSES = new Set([502, 503, 504])

/** A gateway in front of ClickHouse answered /ping for it: ClickHouse is unreachable behind it, not misaddressed. */
export class GatewayUnavailable extends Error {
  constructor(readonly status: number) {
    super(`a reverse proxy answered /ping with ${status}: the ClickHouse behind it is down or unreachable`)
    this.name = 'GatewayUnavailable'
  }
}

/**
 * The status of `GET <pathname>/ping` on `url`, when it is a gateway's (502, 503, 504 without
 * ClickHouse's exception header); undefined for any other answer or none. Asked only once
 * clickhouse-js's ping has failed with a page that is not ClickHouse's: it keeps the page and
 * drops the status, which alone tells a proxy whose ClickHouse is down from a wrong address.
 * No credentials: ClickHouse answers /ping without a login.
 */
export function gatewayStatus(endpoint: { url: string; pathname?: string }, options: { ca?: Buffer | undefined; timeoutMs: number }): Promise<number | undefined> {
  // The path clickhouse-js pings (its transformUrl): `/clickhouse/` + `/ping`, slashes as they fall.
  const prefix = endpoint.pathname ?? '/'
  const target = new URL(endpoint.url)
  target.pathname = prefix === '/' ? '/ping' : `${prefix}/ping`
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve) => {
    const req = request(target, { method: 'GET', timeout: options.timeoutMs, ...(options.ca ? { ca: options.ca } : {}) }, (res) => {
      res.resume()
      const status = res.statusCode ?? 0
      resolve(GATEWAY_STATUSES.has(status) && res.headers['x-clickhouse-exception-code'] === undefined ? status : undefined)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(undefined))
    req.end()
  })
}
