import Database from 'better-sqlite3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { withStatementCache } from './statement-cache.js'

describe('the SQLite statement cache', () => {
  let db: Database.Database
  afterEach(() => db.close())

  const open = () => {
    db = new Database(':memory:')
    db.exec('CREATE TABLE t (n INTEGER)')
    return withStatementCache(db)
  }

  it('prepares each distinct SQL text once and binds each execution anew', () => {
    const cached = open()
    const prepare = vi.spyOn(db, 'prepare')
    for (const n of [1, 2, 3]) cached.prepare('INSERT INTO t (n) VALUES (?)').run([n])
    expect(cached.prepare('SELECT sum(n) AS s FROM t WHERE n > ?').all([1])).toEqual([{ s: 5 }])
    expect(cached.prepare('SELECT sum(n) AS s FROM t WHERE n > ?').all([0])).toEqual([{ s: 6 }])
    expect(prepare).toHaveBeenCalledTimes(2)
  })

  it('iterates with a cached statement and reuses it once the iteration is done', () => {
    const cached = open()
    for (const n of [1, 2]) cached.prepare('INSERT INTO t (n) VALUES (?)').run([n])
    const select = 'SELECT n FROM t ORDER BY n'
    expect([...cached.prepare(select).iterate([])]).toEqual([{ n: 1 }, { n: 2 }])
    expect(cached.prepare(select).all([])).toEqual([{ n: 1 }, { n: 2 }])
  })

  it('keeps a bounded number of statements', () => {
    const cached = open()
    const prepare = vi.spyOn(db, 'prepare')
    for (let i = 0; i < 300; i++) cached.prepare(`SELECT ${i} AS v`).all([])
    cached.prepare('SELECT 0 AS v').all([]) // the oldest was evicted: prepared again
    cached.prepare('SELECT 299 AS v').all([]) // still cached
    expect(prepare).toHaveBeenCalledTimes(301)
  })
})
