// The catalogue is @spanlens/query's (docs/errors.md says why); ingest's modules import it from here.
export {
  SpanlensError,
  createError,
  errors,
  isSpanlensError,
  clickHouseErrorType,
  toSpanlensError,
  replyWithError,
  type ErrorBody,
  type ErrorFactory,
  type ErrorOptions,
} from '@spanlens/query/errors'
