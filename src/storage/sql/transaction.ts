import { Batcher } from '../batcher.js'
import type { SqlConnection, SqlSession } from './types.js'

type Work = (session: SqlSession) => Promise<unknown>

/**
 * The exclusive write path of one connection: one transaction at a time, opened by `begin` (which takes
 * the database's writer lock), committed when the work returns and rolled back when it throws.
 */
export function exclusiveWriter(
  connection: SqlConnection,
  begin: (connection: SqlConnection) => Promise<void>,
) {
  const writer = new Batcher<Work, unknown>(async ([work]) => {
    await begin(connection)
    try {
      const result = await work!(connection)
      await connection.exec('COMMIT')
      return [result]
    } catch (error) {
      await connection.exec('ROLLBACK').catch(() => undefined)
      throw error
    }
  }, 1)
  return {
    exclusive: <T>(work: (session: SqlSession) => Promise<T>) => writer.submit(work) as Promise<T>,
    idle: () => writer.idle(),
  }
}
