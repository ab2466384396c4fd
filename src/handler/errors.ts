/** A configuration problem, named by its key path with the fix: the service shell's error, re-exported. */
export { ConfigInvalid } from '../service/index.js'
