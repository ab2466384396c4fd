/**
 * Scaffolding that each test of a file starts afresh with: what it started is stopped after it, and the clock
 * it moved forward is put back. Call these at the top level of a test file (they register `afterEach` hooks).
 */
import { afterEach } from 'vitest'
import { systemClock, type Clock } from '../../src/core/index.js'

export interface Cleanups {
  /** Runs `cleanup` after the current test, after those pushed later (a server stops before its database). */
  push(cleanup: () => unknown): void
}

/** A list of cleanups run, and emptied, after each test: the last pushed first, each awaited. */
export function cleanupsPerTest(): Cleanups {
  const cleanups: (() => unknown)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  return { push: (cleanup) => void cleanups.push(cleanup) }
}

export interface SkewedClock {
  /** The system clock, ahead by `skewMs`: give it to everything under test that reads the time. */
  readonly clock: Clock
  /** How far ahead of the system clock `clock` is, in milliseconds; a test sets it to let time pass. */
  skewMs: number
}

/** The system clock, which a test moves forward by setting `skewMs`; back to no skew after each test. */
export function skewedClockPerTest(): SkewedClock {
  const skewed: SkewedClock = { clock: { ...systemClock, now: () => Date.now() + skewed.skewMs }, skewMs: 0 }
  afterEach(() => void (skewed.skewMs = 0))
  return skewed
}
