import type { IField } from '@noble/curves/abstract/modular.js'

/** λ_i at 0 for the holder set {1, …, n}: Π_{m ≠ i} m / (m − i), in the scalar field of the curve. */
export function lagrangeAtZero(Fn: IField<bigint>, i: number, n: number): bigint {
  let result = 1n
  for (let m = 1; m <= n; m++)
    if (m !== i) result = Fn.mul(result, Fn.div(BigInt(m), Fn.create(BigInt(m - i))))
  return result
}

/** c0 + c1·x + c2·x² + … by Horner's rule. */
export const evaluatePolynomial = (Fn: IField<bigint>, coefficients: readonly bigint[], x: bigint): bigint =>
  coefficients.reduceRight((acc, c) => Fn.add(Fn.mul(acc, x), c), 0n)
