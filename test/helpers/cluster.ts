/** Helpers for integration tests: a real local cluster in a temporary folder, and wallet clients for it. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { startLocalCluster, type LocalClusterHandle, type LocalClusterOptions } from '../../src/cli/local-cluster.ts';
import { replicaVerifier } from '../../src/cli/proxy-transport.ts';
import { WalletHttp } from '../../src/cli/wallet-http.ts';
import { depositOperation, registerOperation } from '../../src/wallet/index.ts';

export interface TestCluster {
  readonly cluster: LocalClusterHandle;
  /** A verifying wallet client per replica API. */
  readonly http: WalletHttp[];
  readonly issuer: KeyObject;
  close(): Promise<void>;
}

export async function startTestCluster(options: Omit<LocalClusterOptions, 'dir'>): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-it-'));
  const cluster = await startLocalCluster({ dir, env: { BULWARK_LOG_LEVEL: 'warn' }, ...options });
  try {
    await cluster.waitHealthy(60_000);
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  const verifier = replicaVerifier(cluster.config);
  const http = cluster.urls.map((url) => new WalletHttp({ url, caPem: cluster.caPem, verifier, f: cluster.config.f }));
  const issuer = createPrivateKey(readFileSync(join(cluster.config.pkiDir, 'issuer.key'), 'utf8'));
  return {
    cluster,
    http,
    issuer,
    close: async () => {
      await Promise.all(http.map((h) => h.close()));
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Registers `accountId` with a fresh key and deposits `amount` into it through `http`. */
export async function openAccount(http: WalletHttp, issuer: KeyObject, accountId: string, amount: bigint): Promise<KeyObject> {
  const kp = generateKeyPairSync('ed25519');
  const reg = registerOperation(accountId, kp);
  await http.call('POST', '/accounts', { accountId, publicKey: reg.publicKey, signature: reg.signature });
  if (amount > 0n) {
    const dep = depositOperation(accountId, amount, 1, issuer);
    await http.call('POST', `/accounts/${accountId}/deposits`, { amount: dep.amount, nonce: dep.nonce, signature: dep.signature });
  }
  return kp.privateKey;
}
