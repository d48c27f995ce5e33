// The catalogue is @spanlens/query's (docs/errors.md says why); ingest's modules import it from here.
export {
  SpanlensError,
  errors,
  isSpanlensError,
  clickHouseErrorType,
  toSpanlensError,
  replyWithError,
} from '@spanlens/query/errors'
