import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { dklsGeneration, loadDklsInstance, withDkls, type DklsWasm } from './dkls-wasm.js'
import { newSessionId } from './index.js'

describe('the DKLs23 wasm instance', () => {
  it('replaces the wasm instance after every panic, so panics that would kill one instance never accumulate', async () => {
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined) // a raw instance's panic hook prints
    onTestFinished(() => quiet.mockRestore())
    const sessionData = {
      parameters: { threshold: 3, share_count: 3 },
      party_index: 1,
      session_id: Array.from(newSessionId()),
    }
    // Inputs the schema check stops before the wasm (here a key share it cannot deserialise), handed to it directly.
    const panic = (w: DklsWasm) => w.sign_phase1({ party_index: 'x' }, { sign_id: [] })
    const works = (w: DklsWasm) => {
      try {
        return (w.phase1_wasm_binding(sessionData) as string[]).length === 3
      } catch {
        return false
      }
    }
    // Measured once on an instance nobody replaces: its leaked stack runs out after a few hundred to ~2,000 panics.
    const raw = await loadDklsInstance()
    let panics = 0
    while (panics < 5000 && works(raw)) {
      for (let i = 0; i < 50; i++, panics++)
        expect(() => panic(raw)).toThrow(expect.objectContaining({ name: 'RuntimeError' }))
    }
    expect(works(raw)).toBe(false)
    expect(panics).toBeLessThan(5000)

    // Through the engine layer, each panic retires the instance it happened on.
    const seen = new Set<DklsWasm>()
    const generation = dklsGeneration()
    const PANICS = 5
    for (let i = 0; i < PANICS; i++) {
      seen.add(await withDkls((w) => w))
      await expect(withDkls(panic)).rejects.toMatchObject({ name: 'RuntimeError' })
    }
    const current = await withDkls((w) => w)
    expect(seen.size).toBe(PANICS)
    expect(seen.has(current)).toBe(false)
    expect(dklsGeneration()).toBe(generation + PANICS)
    expect(works(current)).toBe(true)
  })
})
