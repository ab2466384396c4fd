import type { SqlDatabase } from './sql/types.js'

/**
 * Schema migrations, one portable SQL text each, applied in order inside the exclusive write transaction
 * (so two replicas starting together cannot both apply one). Append only: a released migration is never
 * edited.
 */
const MIGRATIONS: readonly { readonly id: number; readonly sql: readonly string[] }[] = [
  {
    id: 1,
    sql: [
      `CREATE TABLE decisions (
        request_id TEXT PRIMARY KEY,
        payload_digest TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        action TEXT NOT NULL,
        reason TEXT,
        rule_id TEXT,
        policy_version TEXT NOT NULL,
        policy_digest TEXT NOT NULL,
        signer_id TEXT,
        request_json TEXT NOT NULL,
        trace_json TEXT NOT NULL,
        hold_json TEXT,
        decided_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE INDEX decisions_by_time ON decisions (decided_at)`,
      `CREATE INDEX decisions_by_status ON decisions (status)`,
      `CREATE TABLE velocity_buckets (
        window_id TEXT NOT NULL,
        group_key TEXT NOT NULL,
        bucket_start BIGINT NOT NULL,
        sum_usd_cents BIGINT NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (window_id, group_key, bucket_start)
      )`,
      `CREATE TABLE velocity_reservations (
        request_id TEXT NOT NULL,
        window_id TEXT NOT NULL,
        group_key TEXT NOT NULL,
        bucket_start BIGINT NOT NULL,
        amount_usd_cents BIGINT NOT NULL,
        released_at BIGINT,
        PRIMARY KEY (request_id, window_id, group_key)
      )`,
      `CREATE TABLE approval_votes (
        request_id TEXT NOT NULL,
        approver TEXT NOT NULL,
        vote TEXT NOT NULL,
        reason TEXT,
        voted_at BIGINT NOT NULL,
        PRIMARY KEY (request_id, approver)
      )`,
      `CREATE TABLE audit_log (
        seq BIGINT PRIMARY KEY,
        at BIGINT NOT NULL,
        event TEXT NOT NULL,
        request_id TEXT,
        body_json TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      )`,
      `CREATE INDEX audit_by_time ON audit_log (at)`,
    ],
  },
]

export async function migrate(db: SqlDatabase, now: number): Promise<void> {
  await db.exclusive(async (session) => {
    await session.run(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)',
    )
    const applied = new Set(
      (await session.all<{ id: number }>('SELECT id FROM schema_migrations')).map((row) => Number(row.id)),
    )
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.id)) continue
      for (const statement of migration.sql) await session.run(statement)
      await session.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [migration.id, now])
    }
  })
}
