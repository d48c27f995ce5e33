// The catalogue is @spanlens/query's (docs/errors.md says why); ingest's modules import it from here.
export {
  SpanlensError,
  errors,
  isSpanlensError,
  clickHouseErrorType,
  isStoreUnreachable,
  isClientTimeout,
  UNREACHABLE_RETRY_AFTER_SECONDS,
  LOGIN_REFUSED_TYPES,
  STORE_STATE_TYPES,
  toSpanlensError,
  replyWithError,
  PRIVATE_REPLY_HEADERS,
  LogLimit,
  OUTAGE_WARN_EVERY_MS,
} from '@spanlens/query/errors'
