import { describe, expect, it } from 'vitest'
import { SingleUse } from './round-party.js'

describe('SingleUse', () => {
  it('hands its value out once and refuses every later take', () => {
    const state = new SingleUse({ nonces: 'secret' })
    expect(state.take()).toEqual({ nonces: 'secret' })
    expect(() => state.take()).toThrow(expect.objectContaining({ code: 'CS_MPC_SESSION_FINISHED' }))
    expect(() => state.take()).toThrow(expect.objectContaining({ code: 'CS_MPC_SESSION_FINISHED' }))
  })
})
