/**
 * Ed25519 over libsodium (src/crypto/ed25519.ts): the same signatures as node:crypto (RFC 8032
 * is deterministic, and the PKI, CSRs and simulator keys come from node:crypto), precise
 * rejections, and no per-signer resource that runs out.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ED25519_SIGNATURE_BYTES, Ed25519Signer, Ed25519Verifier, ed25519Verify } from '../../src/crypto/ed25519.ts';

const message = Buffer.from('bulwark test message: PROPOSE cid 7 regency 0');

describe('Ed25519 with libsodium', () => {
  it('signs exactly as node:crypto does, and each verifies the other', () => {
    for (let i = 0; i < 20; i++) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const ours = new Ed25519Signer(privateKey).sign(message);
      assert.deepEqual(Buffer.from(ours), sign(null, message, privateKey));
      assert.equal(verify(null, message, publicKey, ours), true);
      const pem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
      assert.equal(new Ed25519Verifier(new Map([[i, pem]])).verify(i, message, sign(null, message, privateKey)), true);
    }
  });

  it('a signature owns its 64 bytes (it is not a view into a shared pool that a kept vote would pin)', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const signature = new Ed25519Signer(privateKey).sign(message);
    assert.equal(signature.length, ED25519_SIGNATURE_BYTES);
    assert.equal(signature.buffer.byteLength, ED25519_SIGNATURE_BYTES);
  });

  it('rejects a flipped bit, another message, a wrong-length signature, an unknown signer and another key, without throwing', () => {
    const a = generateKeyPairSync('ed25519');
    const b = generateKeyPairSync('ed25519');
    const verifier = new Ed25519Verifier(new Map([[1, a.publicKey], [2, b.publicKey]]));
    const signature = new Ed25519Signer(a.privateKey).sign(message);
    assert.equal(verifier.verify(1, message, signature), true);
    const flipped = Buffer.from(signature);
    flipped[10]! ^= 1;
    assert.equal(verifier.verify(1, message, flipped), false);
    assert.equal(verifier.verify(1, Buffer.concat([message, Buffer.from('!')]), signature), false);
    assert.equal(verifier.verify(1, message, signature.subarray(0, 63)), false);
    assert.equal(verifier.verify(1, message, Buffer.concat([signature, Buffer.alloc(1)])), false);
    assert.equal(verifier.verify(3, message, signature), false);
    assert.equal(verifier.verify(2, message, signature), false);
    assert.equal(ed25519Verify(new Uint8Array(31), message, signature), false);
    assert.equal(ed25519Verify(new Uint8Array(32), message, signature), false); // the all-zero (small-order) key
  });

  it('refuses a key that is not Ed25519, naming the principal', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(() => new Ed25519Verifier(new Map([[7, ec.publicKey]])), /principal 7: expected an Ed25519 public key, got ec/);
    assert.throws(() => new Ed25519Signer(ec.privateKey), /expected an Ed25519 private key, got ec/);
  });

  it('derives signers and raw keys from 5 000 fresh keys without deadlocking or running out of locked memory', () => {
    // Both failures this guards against stop the process (a futex deadlock in Node 20's JWK
    // export, an abort in sodium_malloc), so it runs in a child with a deadline.
    const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../helpers/ed25519-many-keys-child.ts', import.meta.url)), '5000'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.signal, null, `the child was stopped by ${child.signal} (a deadlock?); stderr: ${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), 'ok 5000');
  });
});
