/** The console capability: passkeys, single-use challenges and enrolment tokens, sessions (src/service's console shell). */
export { consoleStore, credentialKeyOf } from './store.js'
export type {
  ConsoleChallenge,
  ConsoleCredential,
  ConsoleSession,
  ConsoleStore,
  NewChallenge,
  NewCredential,
} from './store.js'
export { CONSOLE_MIGRATIONS } from './schema.js'
export type { ConsoleTables } from './schema.js'
