// autocannon ships no types and has no @types package: the part of its API bench/ingest uses.
declare module 'autocannon' {
  interface Request {
    method?: string
    headers?: Record<string, string>
    body?: string | Buffer
    setupRequest?: (req: Record<string, unknown>) => Record<string, unknown>
  }
  interface Options {
    url: string
    connections?: number
    duration?: number
    timeout?: number
    requests?: Request[]
  }
  interface Result {
    '2xx': number
    non2xx: number
    errors: number
    statusCodeStats?: Record<string, { count: number }>
    latency: { p50: number; p99: number }
  }
  function autocannon(options: Options): Promise<Result>
  export default autocannon
}
