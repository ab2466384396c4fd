/** What every module may use: the error base class and its code catalogues. Imports nothing of the project. */
export { CountersignError, defineErrorCodes } from './errors.js'
export type { ErrorCatalogue, ErrorCodeInfo } from './errors.js'
