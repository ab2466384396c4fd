import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { ConfigInvalid, readStoreUrl } from '../handler/index.js'
import { requireExistingStore, resolveStoreUrl, storeOpenFailed } from '../service/index.js'
import { openStore, type Store } from '../storage/index.js'
import type { Io } from './io.js'

export interface StoreOptions {
  readonly store?: string
  readonly config?: string
}

/** Adds the options every store-backed command shares. */
export function withStoreOptions(command: Command): Command {
  return command
    .option(
      '--store <url>',
      'sqlite:PATH or postgres://... (default: the handler configuration, else .countersign/countersign.db)',
    )
    .option('--config <file>', 'the handler configuration file whose store to use')
}

/** `--store`, else COUNTERSIGN_STORE or the configuration's `store`, else the development-mode database. */
export function storeUrlFrom(options: StoreOptions, io: Io): string {
  // Relative to where the command runs, as the operator typed it.
  if (options.store) return resolveStoreUrl(options.store, io.cwd)
  if (options.config || io.env.COUNTERSIGN_STORE) return readStoreUrl(options.config, io.env, io.cwd)
  const devDatabase = join(io.cwd, '.countersign', 'countersign.db')
  if (existsSync(devDatabase)) return `sqlite:${devDatabase}`
  throw new ConfigInvalid([
    'no store given: pass --store URL or --config FILE (or run from the folder holding .countersign/)',
  ])
}

/** Opens an existing store for an operator command; a missing one is refused, never created. */
async function openExistingStore(url: string): Promise<Store> {
  requireExistingStore(url)
  try {
    return await openStore(url)
  } catch (error) {
    throw storeOpenFailed(url, error)
  }
}

export async function withStore<T>(
  options: StoreOptions,
  io: Io,
  work: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await openExistingStore(storeUrlFrom(options, io))
  try {
    return await work(store)
  } finally {
    await store.close()
  }
}
