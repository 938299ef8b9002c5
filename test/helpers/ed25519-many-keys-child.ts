/**
 * Child process of test/unit/crypto-ed25519.test.ts: makes `count` fresh key pairs and derives
 * a signer, a verifier and the raw public key of each, then signs and verifies with every one.
 * Run in a child because the failure it guards against is a deadlock inside Node (a JWK export
 * racing the key-generation job's destructor) that no timer in the same process could report.
 * Prints `ok <count>` and exits 0 on success.
 */
import { generateKeyPairSync } from 'node:crypto';
import { Ed25519Signer, Ed25519Verifier, ed25519PublicKeyToRaw, ed25519Verify } from '../../src/crypto/ed25519.ts';

const count = Number(process.argv[2] ?? 5000);
const message = Buffer.from('many keys');
const signers: Ed25519Signer[] = [];
for (let i = 0; i < count; i++) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signer = new Ed25519Signer(privateKey);
  signers.push(signer);
  const signature = signer.sign(message);
  if (!ed25519Verify(ed25519PublicKeyToRaw(publicKey), message, signature) || !new Ed25519Verifier(new Map([[i, publicKey]])).verify(i, message, signature)) {
    console.error(`key ${i}: its own signature does not verify`);
    process.exit(1);
  }
}
console.log(`ok ${signers.length}`);
