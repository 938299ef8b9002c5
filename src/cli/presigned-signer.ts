/**
 * A request signer for benchmarks whose signatures were computed before the measurement
 * window, as clients on other machines would have done: the benchmark's client process
 * then spends no CPU signing on the two cores it shares with the replicas. Issue 5 allows
 * this "if the report says so"; `bench micro --presign` says so in its output.
 */
import type { Signer } from '../crypto/signature.ts';
import { loneRequestSigningMessage } from '../core/signing.ts';
import { sha256 } from '../crypto/ed25519.ts';
import { toHex } from '../core/bytes.ts';

export class PresignedSigner implements Signer {
  private readonly signatures = new Map<string, Uint8Array>();
  /** Signatures not found among the precomputed ones (signed inline). */
  misses = 0;

  constructor(private readonly signer: Signer) {}

  /**
   * Signs, now, the requests `clientId` will send as seq 1..`count` of `session` (ordered,
   * with a payload whose SHA-256 is `payloadDigest`), each as sent alone. A turn in which
   * the proxy sends several requests signs their tree's root instead (lever 42), inline.
   */
  presign(clientId: number, session: number, count: number, payloadDigest: Uint8Array): void {
    for (let seq = 1; seq <= count; seq++) {
      const message = loneRequestSigningMessage(sha256, clientId, session, seq, true, payloadDigest);
      this.signatures.set(toHex(message), this.signer.sign(message));
    }
  }

  /** The precomputed signature of `message` (used once, then forgotten), or a fresh one. */
  sign(message: Uint8Array): Uint8Array {
    const key = toHex(message);
    const signature = this.signatures.get(key);
    if (signature) {
      this.signatures.delete(key);
      return signature;
    }
    this.misses++;
    return this.signer.sign(message);
  }
}
