/**
 * Signature interfaces. The protocol core takes these as dependencies so it never
 * imports node:crypto itself; `ed25519.ts` implements them with node:crypto.
 */

/** Signs bytes with this process's private key. Synchronous by design (node:crypto's one-shot sign). */
export interface Signer {
  /** @returns a 64-byte Ed25519 signature over `message`. */
  sign(message: Uint8Array): Uint8Array;
}

/** Verifies a signature from a known principal (replica or client id). */
export interface Verifier {
  /**
   * @param signerId the replica id whose public key must have produced `signature`.
   * @returns false for a bad signature, an unknown signer or a malformed signature; never throws.
   */
  verify(signerId: number, message: Uint8Array, signature: Uint8Array): boolean;
}

/** SHA-256 over bytes; injected into the core as a pure function. */
export type Hasher = (data: Uint8Array) => Uint8Array;
