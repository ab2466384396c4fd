import { describe, expect, it } from 'vitest'
import type { LinkParty } from '../../storage/index.js'
import { AVAILABILITY_WINDOW_MS, isAvailable } from './signer-directory.js'

const now = 1_767_225_600_000
const party = (fields: Partial<LinkParty>): LinkParty => ({
  name: 'user-1',
  kind: 'customer',
  partyKey: 'key',
  cosignerId: 'cosigner-1',
  displayName: null,
  instance: null,
  enrolledAt: now - 3_600_000,
  lastSeen: now - 1_000,
  leftAt: null,
  configKey: null,
  revokedAt: null,
  ...fields,
})

describe('a co-signer’s availability', () => {
  it('holds while it was heard from within the window', () => {
    expect(isAvailable(party({}), now)).toBe(true)
    expect(isAvailable(party({ lastSeen: now - AVAILABILITY_WINDOW_MS }), now)).toBe(true)
    expect(isAvailable(party({ lastSeen: now - AVAILABILITY_WINDOW_MS - 1 }), now)).toBe(false)
    expect(isAvailable(party({ lastSeen: null }), now)).toBe(false)
  })

  it('ends at once when it said it stops or was revoked, and comes back when it is heard from after', () => {
    expect(isAvailable(party({ leftAt: now - 500 }), now)).toBe(false)
    expect(isAvailable(party({ leftAt: now - 1_000 }), now)).toBe(false)
    expect(isAvailable(party({ leftAt: now - 2_000 }), now)).toBe(true)
    expect(isAvailable(party({ revokedAt: now - 500 }), now)).toBe(false)
  })
})
