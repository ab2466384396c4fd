import { Batcher } from '../batcher.js'
import type { WriteSession } from './types.js'

type Work = (session: WriteSession) => Promise<unknown>

/**
 * The write path of one connection: one transaction at a time, opened by `begin`, committed when the work
 * returns and rolled back when it throws.
 */
export function serialWriter(transaction: {
  begin(): Promise<void>
  commit(): Promise<void>
  rollback(): Promise<void>
  session: WriteSession
}) {
  const writer = new Batcher<Work, unknown>(async ([work]) => {
    await transaction.begin()
    try {
      const result = await work!(transaction.session)
      await transaction.commit()
      return [result]
    } catch (error) {
      await transaction.rollback().catch(() => undefined)
      throw error
    }
  }, 1)
  return {
    write: <T>(work: (session: WriteSession) => Promise<T>) => writer.submit(work) as Promise<T>,
    idle: () => writer.idle(),
  }
}
