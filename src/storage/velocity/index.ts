/** The velocity capability: the bucketed ledger of reserved amounts per window and group. */
export {
  readFigures,
  releaseReservations,
  reservedSeriesLocks,
  velocityLocks,
  writeReservations,
} from './ledger.js'
export type { ReleasedReservation, Reservation, VelocityFigures, VelocitySeries } from './ledger.js'
export { VELOCITY_MIGRATIONS } from './schema.js'
