/**
 * The part of sodium-native's API Bulwark uses (its package ships no types, and
 * `@types/sodium-native` describes version 2). Byte arguments are any Uint8Array; lengths
 * are checked by the binding, which throws a TypeError on a short buffer.
 */
declare module 'sodium-native' {
  const sodium: {
    readonly crypto_sign_BYTES: number;
    readonly crypto_sign_PUBLICKEYBYTES: number;
    readonly crypto_sign_SECRETKEYBYTES: number;
    readonly crypto_sign_SEEDBYTES: number;
    crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void;
    crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void;
    crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
    readonly crypto_aead_xchacha20poly1305_ietf_KEYBYTES: number;
    readonly crypto_aead_xchacha20poly1305_ietf_NPUBBYTES: number;
    readonly crypto_aead_xchacha20poly1305_ietf_ABYTES: number;
    /** Writes ciphertext ‖ tag into `ciphertext` (message length + ABYTES). @returns the bytes written. */
    crypto_aead_xchacha20poly1305_ietf_encrypt(ciphertext: Uint8Array, message: Uint8Array, additionalData: Uint8Array | null, nsec: null, nonce: Uint8Array, key: Uint8Array): number;
    /** Writes the message into `message` (ciphertext length − ABYTES). @throws Error if the tag does not verify. @returns the bytes written. */
    crypto_aead_xchacha20poly1305_ietf_decrypt(message: Uint8Array, nsec: null, ciphertext: Uint8Array, additionalData: Uint8Array | null, nonce: Uint8Array, key: Uint8Array): number;
  };
  export default sodium;
}
