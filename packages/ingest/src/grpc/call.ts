import {
  Metadata,
  ServerInterceptingCall,
  status as Status,
  type handleUnaryCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type StatusObject,
} from '@grpc/grpc-js'
import type { Logger } from 'pino'
import type { KeyRing } from '../auth.js'
import { errors, type SpanlensError } from '../errors.js'
import { encodeRpcStatus } from '../otlp/encode-response.js'
import type { IngestPipeline } from '../pipeline/ingest.js'
import { admit, refuse } from '../receiver/export.js'
import type { GrpcService } from './services.js'

/**
 * The life of one OTLP/gRPC call, for every service alike: what the OTLP/HTTP
 * scope's hooks do (auth, admission, the body's time limit, counting), done by
 * one server interceptor so that a service registered later is closed by
 * default, like a route inside the authenticated scope.
 */

export interface CallPolicy {
  keys: KeyRing
  pipeline: IngestPipeline
  /** SPANLENS_BODY_LIMIT_BYTES, the message limit after decompression. */
  bodyLimit: number
  /** SPANLENS_BODY_TIMEOUT_MS: from the call's headers until its message is complete. */
  bodyTimeoutMs: number
  log: Logger
}

type GrpcStatus = Parameters<ServerInterceptingCallInterface['sendStatus']>[0]

interface CallState {
  project: string
  started: bigint
  /** Set once the outcome is counted on /metrics, by whichever side answered. */
  counted: boolean
}

// The handler receives the Metadata object the interceptor passed on; the call's
// state rides on it, out of reach of anything the client sends.
const states = new WeakMap<Metadata, CallState>()

/**
 * Authenticates (`authorization: Bearer <key>`, or Basic project:key) and admits
 * each call from its headers, before grpc-js reads its message: a refused or
 * unauthenticated client costs no message buffer, as over HTTP. The slot is
 * released however the call ends.
 */
export function callInterceptor(policy: CallPolicy): ServerInterceptor {
  return (method, call) => {
    const route = method.path
    const state: CallState = { project: '', started: process.hrtime.bigint(), counted: false }
    let release: (() => void) | undefined
    let timer: NodeJS.Timeout | undefined
    let ended = false
    const end = () => {
      ended = true
      clearTimeout(timer)
      release?.()
    }
    const refuseNow = (err: unknown) => {
      state.counted = true
      call.sendStatus(statusOf(refusal(policy, route, err)))
    }
    // grpc-js answers some calls from inside its own call object, past every
    // interceptor's sendStatus: a message over the size limit (as sent or as it
    // inflates), one that does not decompress, an expired grpc-timeout. That
    // object's sendStatus is the one place every status passes, so the call ends
    // there, and grpc-js's refusals get our codes and are counted like ours.
    const send = call.sendStatus.bind(call)
    call.sendStatus = (status: GrpcStatus) => {
      if (ended) return send(status)
      end()
      const ours = state.counted || status.code === Status.OK ? undefined : fromGrpcJs(status, policy.bodyLimit)
      if (!ours) return send(status)
      state.counted = true
      send(statusOf(refusal(policy, route, ours.error), ours.code))
    }
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            const header = metadata.get('authorization')[0]
            const auth = policy.keys.authenticate(typeof header === 'string' ? header : undefined)
            if ('error' in auth) return refuseNow(errors.UNAUTHORIZED(auth.error))
            try {
              release = admit(policy.pipeline, auth.project)
            } catch (err) {
              return refuseNow(err)
            }
            state.project = auth.project
            timer = setTimeout(() => refuseNow(errors.BODY_TIMEOUT(policy.bodyTimeoutMs)), policy.bodyTimeoutMs)
            states.set(metadata, state)
            pass(metadata)
          },
          onReceiveMessage: (message, pass) => {
            clearTimeout(timer)
            // Refused while it was arriving (time limit): the handler must not spool it.
            if (!ended) pass(message)
          },
          // The client went away, or grpc-js ended the call.
          onCancel: end,
        }),
    })
  }
}

/** A service's handler as grpc-js calls it; the call was admitted by callInterceptor. */
export function unaryHandler(service: GrpcService, policy: CallPolicy): handleUnaryCall<Buffer, Buffer> {
  return (call, callback) => {
    const state = states.get(call.metadata)
    if (!state) {
      callback(statusOf(refusal(policy, service.path, errors.INTERNAL('a gRPC call reached its handler without admission'))))
      return
    }
    service.handle(state.project, call.request, state.started).then(
      (reply) => {
        state.counted = true
        callback(null, reply)
      },
      (err: unknown) => {
        state.counted = true
        callback(statusOf(refusal(policy, service.path, err)))
      },
    )
  }
}

function refusal(policy: CallPolicy, route: string, err: unknown) {
  const r = refuse(policy.pipeline.metrics, route, err)
  if (r.unexpected) policy.log.error({ err, route }, 'ingest failed')
  return r
}

/**
 * The status of a refusal: `CODE: message` as details (like the OTLP/HTTP Status
 * body), and when the client should come back later a google.rpc.RetryInfo in
 * grpc-status-details-bin, which the OTLP spec asks for with RESOURCE_EXHAUSTED
 * and UNAVAILABLE.
 */
function statusOf(r: ReturnType<typeof refuse>, code = r.rpcCode): StatusObject {
  const details = `${r.error.code}: ${r.error.message}`
  const metadata = new Metadata()
  if (r.retryAfterSeconds !== undefined) {
    metadata.set('grpc-status-details-bin', encodeRpcStatus(code, details, r.retryAfterSeconds))
  }
  return { code, details, metadata }
}

/** grpc-js's own refusals of a message, as our errors; `code` is what the client gets. */
function fromGrpcJs(status: GrpcStatus, bodyLimit: number): { error: SpanlensError; code: Status } | undefined {
  switch (status.code) {
    case Status.RESOURCE_EXHAUSTED:
      return { error: errors.BODY_TOO_LARGE(bodyLimit), code: Status.RESOURCE_EXHAUSTED }
    case Status.INTERNAL:
      return /decompress/i.test(status.details)
        ? { error: errors.BAD_OTLP('the message could not be decompressed'), code: Status.INVALID_ARGUMENT }
        : undefined
    case Status.UNIMPLEMENTED: {
      // grpc-js's unary handler, when the client half-closes the call: without one whole message
      // (none sent, or the last cut short of the length its prefix gives, which its decoder drops
      // unread), or after a second one. Both are input this method cannot decode, said as it is
      // for any other: its own status names a "server streaming method", which this is not.
      if (/^Received no request message/.test(status.details)) {
        return { error: errors.BAD_OTLP('the call ended without a whole request message: none was sent, or it was cut short of the length its prefix gives'), code: Status.INVALID_ARGUMENT }
      }
      if (/^Received a second request message/.test(status.details)) {
        return { error: errors.BAD_OTLP('Export takes one request message per call; this call sent more'), code: Status.INVALID_ARGUMENT }
      }
      const encoding = /unsupported encoding "([^"]*)"/.exec(status.details)?.[1]
      // gRPC's compression spec: an unsupported algorithm MUST be UNIMPLEMENTED.
      return encoding === undefined ? undefined : { error: errors.UNSUPPORTED_ENCODING(encoding, 'gzip, deflate or identity'), code: Status.UNIMPLEMENTED }
    }
    default:
      // The client cancelled, or its own deadline passed: not a refusal.
      return undefined
  }
}
