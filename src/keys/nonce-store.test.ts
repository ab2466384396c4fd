import { describe, expect, it } from 'vitest'
import { ManualClock } from '../core/index.js'
import { InMemoryNonceStore } from './index.js'

function store(startMs = 1_000_000) {
  const clock = new ManualClock(startMs)
  const nonces = new InMemoryNonceStore(clock)
  return { nonces, advance: (ms: number) => clock.advance(ms), startMs }
}

describe('InMemoryNonceStore', () => {
  it('accepts a nonce once and refuses it again while it is retained', () => {
    const { nonces, startMs } = store()
    expect(nonces.claim('key-a', 'n-1', startMs + 60_000)).toBe(true)
    expect(nonces.claim('key-a', 'n-1', startMs + 60_000)).toBe(false)
  })

  it('scopes nonces per API key', () => {
    const { nonces, startMs } = store()
    expect(nonces.claim('key-a', 'n-1', startMs + 60_000)).toBe(true)
    expect(nonces.claim('key-b', 'n-1', startMs + 60_000)).toBe(true)
  })

  it('does not confuse an API key and nonce pair that concatenate the same way', () => {
    const { nonces, startMs } = store()
    expect(nonces.claim('ab', 'c', startMs + 60_000)).toBe(true)
    expect(nonces.claim('a', 'bc', startMs + 60_000)).toBe(true)
  })

  it('forgets a nonce once its retention has passed, and sweeps expired entries', () => {
    const { nonces, advance, startMs } = store()
    nonces.claim('key-a', 'n-1', startMs + 60_000)
    nonces.claim('key-a', 'n-2', startMs + 600_000)
    advance(60_000)
    expect(nonces.claim('key-a', 'n-1', startMs + 120_000)).toBe(true)
    advance(600_000)
    nonces.claim('key-a', 'n-3', startMs + 720_000)
    expect(nonces.size).toBe(1)
  })
})
