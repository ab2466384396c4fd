import { describe, expect, it } from 'vitest'
import { ManualClock, systemClock } from './index.js'

describe('ManualClock', () => {
  it('fires timers and sleeps in due order, each at its own time', async () => {
    const clock = new ManualClock(1_000)
    const seen: string[] = []
    clock.setTimer(300, () => seen.push(`b@${clock.now()}`))
    clock.setTimer(100, () => seen.push(`a@${clock.now()}`))
    const cancelled = clock.setTimer(200, () => seen.push('cancelled'))
    const slept = clock.sleep(250).then(() => seen.push('slept'))
    cancelled.cancel()
    clock.advance(299)
    await slept
    expect(seen).toEqual(['a@1100', 'slept'])
    expect(clock.now()).toBe(1_299)
    clock.advance(1)
    expect(seen).toEqual(['a@1100', 'slept', 'b@1300'])
    expect(clock.pending).toBe(0)
  })

  it('rejects a sleep with the signal reason when aborted, and never goes back', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'))
    const controller = new AbortController()
    const sleeping = clock.sleep(60_000, controller.signal)
    controller.abort(new Error('shutting down'))
    await expect(sleeping).rejects.toThrow('shutting down')
    expect(clock.pending).toBe(0)
    await expect(clock.sleep(1, AbortSignal.abort(new Error('already')))).rejects.toThrow('already')
    expect(() => clock.set(0)).toThrow(RangeError)
  })
})

describe('systemClock', () => {
  it('sleeps for real and stops early with the signal reason', async () => {
    const started = performance.now()
    await systemClock.sleep(20)
    expect(performance.now() - started).toBeGreaterThanOrEqual(15)
    const controller = new AbortController()
    const sleeping = systemClock.sleep(60_000, controller.signal)
    controller.abort(new Error('stop'))
    await expect(sleeping).rejects.toThrow('stop')
  })

  it('runs a timer unless cancelled', async () => {
    let fired = 0
    systemClock.setTimer(5, () => fired++)
    systemClock.setTimer(5, () => fired++).cancel()
    await systemClock.sleep(30)
    expect(fired).toBe(1)
  })
})
