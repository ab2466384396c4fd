/** The time source of request authentication; tests inject a fixed one instead of patching `Date`. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }
