/**
 * `bulwark wallet keygen|register|deposit|transfer|balance|ledger`: signs operations
 * locally, sends them to any replica's HTTPS API, and checks that f+1 replicas signed
 * each answer (so a lying gateway is caught). Readable output, or --json.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { depositOperation, registerOperation, transferOperation } from '../wallet/index.ts';
import type { AccountLedgerValue, AccountValue, LedgerValue } from '../wallet/index.ts';
import { loadClusterConfig } from './cluster-config.ts';
import { replicaVerifier } from './proxy-transport.ts';
import { WalletHttp } from './wallet-http.ts';

export interface WalletGlobalOptions {
  /** cluster.json of the cluster (for the CA, replica keys, f and default URL). */
  cluster: string;
  url?: string;
  json?: boolean;
}

export function walletClient(o: WalletGlobalOptions): { http: WalletHttp; pkiDir: string } {
  if (!existsSync(o.cluster)) throw new Error(`no cluster configuration at ${o.cluster} (start one with: npm start)`);
  const config = loadClusterConfig(o.cluster);
  const first = config.replicas[0]!;
  const url = o.url ?? `https://${first.host}:${first.apiPort}`;
  const caPem = readFileSync(join(config.pkiDir, 'ca.crt'), 'utf8');
  // Compact evidence halves a ledger page; --json prints the evidence, so it keeps the signed bytes in it.
  return { http: new WalletHttp({ url, caPem, verifier: replicaVerifier(config), f: config.f, compactEvidence: !o.json }), pkiDir: config.pkiDir };
}

function loadPrivateKey(path: string): KeyObject {
  return createPrivateKey(readFileSync(path, 'utf8'));
}

function print(o: WalletGlobalOptions, value: unknown, text: string): void {
  console.log(o.json ? JSON.stringify(value, null, 2) : text);
}

export async function keygen(o: WalletGlobalOptions & { out: string; force?: boolean }): Promise<void> {
  if (existsSync(o.out) && !o.force) throw new Error(`${o.out} exists (use --force to overwrite)`);
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(o.out, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  print(o, { keyFile: o.out }, `wrote an Ed25519 private key to ${o.out}`);
}

export async function register(o: WalletGlobalOptions & { account: string; key: string }): Promise<void> {
  const { http } = walletClient(o);
  try {
    const privateKey = loadPrivateKey(o.key);
    const op = registerOperation(o.account, { privateKey, publicKey: createPublicKey(privateKey) });
    const { data, evidence } = await http.call('POST', '/accounts', { accountId: op.accountId, publicKey: op.publicKey, signature: op.signature });
    print(o, { data, evidence }, `registered account ${o.account} (vouched for by replicas ${evidence.replicas.map((r) => r.replicaId).join(', ')})`);
  } finally {
    await http.close();
  }
}

async function account(http: WalletHttp, id: string): Promise<AccountValue> {
  return (await http.call<AccountValue>('GET', `/accounts/${encodeURIComponent(id)}`)).data;
}

export async function deposit(o: WalletGlobalOptions & { account: string; amount: string; issuerKey?: string; nonce?: number }): Promise<void> {
  const { http, pkiDir } = walletClient(o);
  try {
    const issuer = loadPrivateKey(o.issuerKey ?? join(pkiDir, 'issuer.key'));
    const nonce = o.nonce ?? (await account(http, o.account)).lastDepositNonce + 1;
    const op = depositOperation(o.account, o.amount, nonce, issuer);
    const { data, evidence } = await http.call<{ balance: string }>('POST', `/accounts/${encodeURIComponent(o.account)}/deposits`, { amount: op.amount, nonce: op.nonce, signature: op.signature });
    print(o, { data, evidence }, `deposited ${o.amount} into ${o.account}; balance ${data.balance}`);
  } finally {
    await http.close();
  }
}

export async function transfer(o: WalletGlobalOptions & { from: string; to: string; amount: string; key: string; nonce?: number }): Promise<void> {
  const { http } = walletClient(o);
  try {
    const nonce = o.nonce ?? (await account(http, o.from)).lastTransferNonce + 1;
    const op = transferOperation(o.from, o.to, o.amount, nonce, loadPrivateKey(o.key));
    const { data, evidence } = await http.call<{ balance: string }>('POST', '/transfers', { from: op.from, to: op.to, amount: op.amount, nonce: op.nonce, signature: op.signature });
    print(o, { data, evidence }, `transferred ${o.amount} from ${o.from} to ${o.to}; ${o.from}'s balance ${data.balance}`);
  } finally {
    await http.close();
  }
}

export async function balance(o: WalletGlobalOptions & { account: string }): Promise<void> {
  const { http } = walletClient(o);
  try {
    const { data: a, evidence } = await http.call<AccountValue>('GET', `/accounts/${encodeURIComponent(o.account)}`);
    print(o, { data: a, evidence }, `${a.accountId}: balance ${a.balance} (${a.entries} ledger entries)`);
  } finally {
    await http.close();
  }
}

export async function ledger(o: WalletGlobalOptions & { account?: string; limit: number; cursor?: string }): Promise<void> {
  const { http } = walletClient(o);
  try {
    const q = `?limit=${o.limit}${o.cursor ? `&cursor=${encodeURIComponent(o.cursor)}` : ''}`;
    const path = o.account ? `/accounts/${encodeURIComponent(o.account)}/ledger${q}` : `/ledger${q}`;
    const { data, evidence } = await http.call<AccountLedgerValue | LedgerValue>('GET', path);
    const lines = data.entries.map((e) => {
      const x = e as unknown as Record<string, unknown>;
      const who = x['type'] === 'transfer' ? `${String(x['from'])} -> ${String(x['to'])}` : String(x['accountId']);
      return `#${String(x['index']).padStart(6)}  ${String(x['type']).padEnd(8)}  ${who.padEnd(30)}  ${x['amount'] ?? ''}`;
    });
    if (data.nextCursor) lines.push(`next page: --cursor ${data.nextCursor}`);
    print(o, { data, evidence }, lines.join('\n') || '(no entries)');
  } finally {
    await http.close();
  }
}
