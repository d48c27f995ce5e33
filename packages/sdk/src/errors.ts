/**
 * The only errors the SDK throws on purpose, all at `init` time. Everything after
 * `init` reports through the diagnostic logger instead (see diag.ts): an
 * observability library must never be the reason an app call fails.
 *
 * The same shape as the server's catalogue (@spanlens/query's errors.ts:
 * `createError(code, format)`, a factory with `.code`, an optional last
 * `{ cause }`), without an HTTP status and without depending on server code,
 * which apps do not install. docs/errors.md lists these codes too.
 */
export class SpanlensSdkError extends Error {
  readonly code: SpanlensSdkErrorCode

  constructor(code: SpanlensSdkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SpanlensSdkError'
    this.code = code
  }
}

type ErrorFactory<C extends string, A extends unknown[]> = {
  (...args: [...A, { cause?: unknown }?]): SpanlensSdkError
  readonly code: C
}

function isOptions(v: unknown): v is { cause?: unknown } {
  return typeof v === 'object' && v !== null && Object.keys(v).length === 1 && 'cause' in v
}

function createError<C extends string, A extends unknown[]>(code: C, format: (...args: A) => string): ErrorFactory<C, A> {
  const factory = (...args: unknown[]): SpanlensSdkError => {
    const options = isOptions(args[args.length - 1]) ? (args.pop() as { cause?: unknown }) : undefined
    return new SpanlensSdkError(code as SpanlensSdkErrorCode, format(...(args as A)), options)
  }
  return Object.assign(factory, { code }) as ErrorFactory<C, A>
}

export const errors = {
  CONFIG_INVALID: createError('SPANLENS_SDK_CONFIG_INVALID', (details: string) => `invalid Spanlens SDK option: ${details}`),
  ALREADY_INITIALIZED: createError(
    'SPANLENS_SDK_ALREADY_INITIALIZED',
    () => 'Spanlens SDK is already initialized; call shutdown() before init() again',
  ),
} as const

export type SpanlensSdkErrorCode = (typeof errors)[keyof typeof errors]['code']

export function isSpanlensSdkError(err: unknown): err is SpanlensSdkError {
  return err instanceof SpanlensSdkError
}
