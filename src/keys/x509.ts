/**
 * The one place that loads `@peculiar/x509`. Its dependency injection (tsyringe) needs the
 * `reflect-metadata` polyfill before the library is evaluated, so the polyfill is imported first; ESM
 * evaluates imports in order. Any file of this module that needs the library imports it from here.
 * (Its ASN.1 schema packages, `@peculiar/asn1-*`, do not need the polyfill.)
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'

// Outside a browser the library has no default provider; give it Node's WebCrypto for the parts that
// use one (thumbprints, generators, async verification). Nothing here calls them today.
x509.cryptoProvider.set(globalThis.crypto)

export { x509 }
