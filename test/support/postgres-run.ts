/**
 * Vitest global setup for the PostgreSQL tests of one run:
 * - names the run, so every schema its tests create starts with `cs_test_<run>_` (see databases.ts);
 * - without a server configured, says once why the PostgreSQL store tests are skipped; under CI=true an
 *   unreachable server fails the run before any test (never a silent skip);
 * - at the end, drops the schemas the run left behind and fails, naming them: a test file must drop what
 *   it creates. Only this run's schemas are touched: other runs may share the server.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

const RUN_VARIABLE = 'COUNTERSIGN_TEST_RUN'

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []) {
  const client = new pg.Client(url)
  await client.connect()
  try {
    return (await client.query<T>(sql, values)).rows
  } finally {
    await client.end()
  }
}

function configuredUrl(): string | undefined {
  return (
    process.env.COUNTERSIGN_TEST_PG_URL ??
    (process.env.CI === 'true' ? 'postgres://postgres@127.0.0.1:5432/test' : undefined)
  )
}

export async function setup(): Promise<(() => Promise<void>) | undefined> {
  const url = configuredUrl()
  if (url === undefined) {
    console.warn(
      'PostgreSQL store tests are skipped: COUNTERSIGN_TEST_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test); under CI=true they run and fail without a server',
    )
    return undefined
  }
  await query(url, 'SELECT 1').catch((error: unknown) => {
    throw new Error(
      `PostgreSQL at ${new URL(url).host} does not answer (${(error as { code?: string }).code ?? String(error)}): start it, or unset COUNTERSIGN_TEST_PG_URL to skip the PostgreSQL tests outside CI`,
    )
  })
  const run = randomBytes(4).toString('hex')
  process.env[RUN_VARIABLE] = run
  return async () => {
    const left = await query<{ name: string }>(
      url,
      'SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE $1',
      [`cs_test_${run}_%`],
    )
    for (const { name } of left) await query(url, `DROP SCHEMA "${name}" CASCADE`)
    if (left.length > 0)
      throw new Error(
        `test files left ${left.length} PostgreSQL schema(s) behind (dropped now): ${left.map(({ name }) => name).join(', ')}; drop them in afterAll (TestDatabase.dropAll)`,
      )
  }
}
