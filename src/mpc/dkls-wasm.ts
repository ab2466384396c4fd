import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

/**
 * The DKLs23 wasm instance, replaced after any panic: each caught panic leaks part of its 1 MiB stack, and
 * somewhere between about 580 and 2,000 of them (depending on where it panics; 1,092 for a key share it cannot
 * deserialise) kill it, so a peer could otherwise take a signer down with malformed input. `initSync` does
 * not re-initialise, so a fresh copy of the glue is imported under a new URL. The module cache keeps each
 * retired copy (a few hundred KB): replacement is the last line, the schema check in front of the wasm the first.
 */
/** The exports used; they take and return serde-wasm-bindgen values that the callers check. */
type Binding = (...args: unknown[]) => unknown
export interface DklsWasm {
  initSync(module: object): unknown
  phase1_wasm_binding: Binding
  phase2_wasm_binding: Binding
  phase3_wasm_binding: Binding
  phase4_wasm_binding: Binding
  sign_phase1: Binding
  sign_phase2: Binding
  sign_phase3: Binding
  sign_phase4: Binding
  derive_child_keyshare: Binding
}

const require = createRequire(import.meta.url)
const gluePath = require.resolve('@0xcarbon/dkls23-wasm/dkls23_wasm.js')
// Compiled once: a replacement instance then costs an instantiation, not a compilation of 600 KB of wasm.
// (The project's TypeScript lib has no WebAssembly values, hence the narrow view of the global.)
const { Module } = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object } })
  .WebAssembly
const wasmModule = new Module(readFileSync(require.resolve('@0xcarbon/dkls23-wasm/dkls23_wasm_bg.wasm')))

let generation = 0
let instance: Promise<DklsWasm> | undefined
let loads = 0

/** A new, independent instance (its own memory and stack); `withDkls` keeps one and replaces it after a panic. */
export async function loadDklsInstance(): Promise<DklsWasm> {
  loads += 1
  const glue = (await import(`${pathToFileURL(gluePath).href}?instance=${loads}`)) as DklsWasm
  // The Rust logger announces itself on stdout at start; keep that noise out of service logs.
  const info = console.info
  console.info = () => undefined
  try {
    glue.initSync(wasmModule)
  } finally {
    console.info = info
  }
  return glue
}

/** How many instances were discarded after a panic (tests and metrics). */
export const dklsGeneration = (): number => generation

/** Runs `call` on the live instance; a panic (a wasm RuntimeError) retires the instance before rethrowing. */
export async function withDkls<T>(call: (wasm: DklsWasm) => T): Promise<T> {
  instance ??= loadDklsInstance()
  const wasm = await instance
  const error = console.error
  console.error = () => undefined // the panic hook prints the panic, which may quote secret inputs
  try {
    return call(wasm)
  } catch (cause) {
    // A Rust panic surfaces as a WebAssembly RuntimeError ('unreachable'; 'memory access out of bounds' once dead).
    if (cause instanceof Error && cause.name === 'RuntimeError') {
      generation += 1
      instance = undefined
    }
    throw cause
  } finally {
    console.error = error
  }
}
