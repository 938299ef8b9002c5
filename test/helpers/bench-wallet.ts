/**
 * Wallet load for benchmarks, through BFT clients (ServiceProxy) rather than HTTPS:
 * opening many accounts, and closed-loop transfer users, each owning one account and
 * sending its transfers one at a time (so its nonces arrive in order).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { ServiceProxy } from '../../src/client/service-proxy.ts';
import { depositOperation, getAccountOperation, registerOperation, transferOperation, type Ed25519KeyPair } from '../../src/wallet/client-ops.ts';
import { mustInvoke, runPool } from './bench-cluster.ts';

/**
 * Registers `${prefix}0 .. ${prefix}(count-1)` with at most `inFlight` requests
 * outstanding, spread over `proxies`. Owners' keys come from a pool of `keyPoolSize`
 * key pairs (account i is owned by key i mod pool): key generation is not what is
 * measured, and the wallet does not require distinct keys.
 * @param budgetMs stop starting new registrations after this long (0 = no limit).
 * @param onProgress called with the number registered so far, at most every `progressMs`.
 * @returns how many were registered and the key pool.
 * @throws on the first failed registration.
 */
export async function registerAccounts(
  proxies: readonly ServiceProxy[],
  prefix: string,
  count: number,
  o: { inFlight: number; keyPoolSize?: number; budgetMs?: number; onProgress?: (done: number) => void; progressMs?: number },
): Promise<{ registered: number; keys: Ed25519KeyPair[] }> {
  const keys = Array.from({ length: o.keyPoolSize ?? 64 }, () => generateKeyPairSync('ed25519'));
  const start = performance.now();
  const progressMs = o.progressMs ?? 10_000;
  let lastProgress = start;
  let done = 0;
  let stopped = false;
  await runPool(count, o.inFlight, async (i) => {
    if (stopped || (o.budgetMs && performance.now() - start > o.budgetMs)) {
      stopped = true;
      return;
    }
    await mustInvoke(proxies[i % proxies.length]!, registerOperation(`${prefix}${i}`, keys[i % keys.length]!));
    done++;
    const now = performance.now();
    if (o.onProgress && now - lastProgress >= progressMs) {
      lastProgress = now;
      o.onProgress(done);
    }
  });
  return { registered: done, keys };
}

export interface TransferUser {
  readonly accountId: string;
  readonly key: KeyObject;
  /** The proxy this user always sends through (its requests are then executed in order). */
  readonly proxy: ServiceProxy;
  nonce: number;
}

/**
 * Opens `count` accounts `${prefix}i`, each with its own key and `deposit` minor units,
 * and returns one transfer user per account; user i sends through proxies[i mod n].
 */
export async function openTransferUsers(proxies: readonly ServiceProxy[], issuer: KeyObject, prefix: string, count: number, deposit: bigint): Promise<TransferUser[]> {
  const users: TransferUser[] = [];
  await runPool(count, 256, async (i) => {
    const kp = generateKeyPairSync('ed25519');
    const proxy = proxies[i % proxies.length]!;
    const accountId = `${prefix}${i}`;
    await mustInvoke(proxy, registerOperation(accountId, kp));
    await mustInvoke(proxy, depositOperation(accountId, deposit, 1, issuer));
    users[i] = { accountId, key: kp.privateKey, proxy, nonce: 0 };
  });
  return users;
}

/**
 * Runs every user in a closed loop — sign a transfer of 1 unit to the next user's
 * account, wait for the f+1 matching replies, repeat — until `keepGoing()` is false.
 * Each acknowledged transfer's latency (ms) is passed to `onAck`.
 * @throws if a transfer is refused by the wallet (the load is valid, so that is a bug).
 */
export async function runTransferUsers(users: readonly TransferUser[], keepGoing: () => boolean, onAck: (latencyMs: number) => void): Promise<void> {
  await Promise.all(
    users.map(async (u, i) => {
      const to = users[(i + 1) % users.length]!.accountId;
      while (keepGoing()) {
        const op = transferOperation(u.accountId, to, 1n, u.nonce + 1, u.key);
        const t0 = performance.now();
        await mustInvoke(u.proxy, op);
        u.nonce++;
        onAck(performance.now() - t0);
      }
    }),
  );
}

/**
 * Orders one cheap read (getAccount) at a time until `done()` resolves true: each is its
 * own consensus instance, so this moves the instance counter forward (e.g. up to the
 * next checkpoint) without changing the state. @returns how many were sent.
 * @throws after `max` without `done()`.
 */
export async function padInstances(proxy: ServiceProxy, accountId: string, done: () => Promise<boolean>, max: number): Promise<number> {
  for (let sent = 0; ; sent++) {
    if (await done()) return sent;
    if (sent >= max) throw new Error(`still not done after ${max} ordered reads`);
    await mustInvoke(proxy, getAccountOperation(accountId));
  }
}
