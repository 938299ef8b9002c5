/**
 * Byzantine clients: they bypass the ServiceProxy and send raw bytes on their own
 * authenticated channel. Replicas must drop what is malformed, execute what is well
 * formed exactly once, and keep serving correct clients whatever these send.
 */
import type { KeyObject } from 'node:crypto';
import { encodeMessage } from '../../core/codec.ts';
import { MessageType, type Request } from '../../core/messages.ts';
import { depositOperation, encodeOperation, registerOperation, transferOperation } from '../../wallet/index.ts';
import type { Prng } from '../prng.ts';
import type { SimKeyPair } from '../sim-crypto.ts';
import { walletAccountId } from '../workload/wallet-workload.ts';
import type { ByzantineClientSpec } from './behaviours.ts';

export interface ByzantineClientDependencies {
  readonly replicas: readonly number[];
  /** Correct clients' ids (victims of forged operations). */
  readonly correctClients: readonly number[];
  readonly rng: Prng;
  /** A key that is nobody's (to sign what it must not). */
  readonly strangerKey: SimKeyPair;
  readonly issuerKey: KeyObject;
  /** True in signed-requests mode. */
  readonly requestsSigned: boolean;
  /** This client's request signature (signed-requests mode), or null when requests are unsigned. */
  signRequest(r: Omit<Request, 'signature'>): Uint8Array | null;
  /** Sends bytes on this client's channel to one replica. */
  send(replicaId: number, bytes: Uint8Array): void;
  /** Records a well-formed REQUEST this client sent (validity: it was issued by a client). */
  issued(requestBytes: Uint8Array): void;
  note(text: string): void;
}

export class ByzantineClient {
  private session = 1;
  private seq = 0;

  constructor(
    readonly spec: ByzantineClientSpec,
    private readonly deps: ByzantineClientDependencies,
  ) {}

  /** Performs one bad action. */
  act(): void {
    switch (this.spec.kind) {
      case 'malformed':
        return this.malformed();
      case 'bad-signature':
        return this.badSignature();
      case 'conflicting-seq':
        return this.conflictingSeq();
      case 'flood':
        return this.flood();
    }
  }

  /** A request on this client's channel, signed with its own key when the cluster wants signed requests. */
  private request(payload: Uint8Array, seq = ++this.seq, session = this.session, clientId = this.spec.clientId): Uint8Array {
    const r: Request = { type: MessageType.REQUEST, clientId, session, seq, ordered: true, payload };
    const signature = this.deps.signRequest(r);
    return encodeMessage(signature ? { ...r, signature } : r);
  }

  private toAll(bytes: Uint8Array): void {
    this.deps.issued(bytes);
    for (const id of this.deps.replicas) this.deps.send(id, bytes);
  }

  private malformed(): void {
    const d = this.deps;
    const to = d.rng.pick(d.replicas);
    const variant = d.rng.int(0, 4);
    if (variant === 0) d.send(to, d.rng.bytes(d.rng.int(0, 80)));
    else if (variant === 1) d.send(to, encodeMessage({ type: MessageType.STOP, from: to, regency: d.rng.int(1, 50) }));
    else if (variant === 2) d.send(to, this.request(d.rng.bytes(8), this.seq + 1, this.session, d.rng.pick(d.correctClients)));
    else if (variant === 3) d.send(to, this.request(d.rng.bytes(16), this.seq + 1).slice(0, d.rng.int(1, 20)));
    else {
      // A request with a signature that is not this client's: refused in signed-requests
      // mode. Without signatures it is a well-formed request this client really sent; sent to
      // one replica under a seq it sends again with other payloads, it would be two versions
      // of one request, outside unsigned mode's threat model (docs/simulator-bugs.md §2), so
      // there it is a new request sent to every replica.
      const payload = d.rng.bytes(8);
      const signature = d.rng.bytes(64);
      if (d.requestsSigned) {
        const bytes = encodeMessage({ type: MessageType.REQUEST, clientId: this.spec.clientId, session: this.session, seq: this.seq + 1, ordered: true, payload, signature });
        d.issued(bytes);
        d.send(to, bytes);
      } else {
        this.toAll(this.request(payload));
      }
    }
    d.note(`client ${this.spec.clientId} [byzantine] sends a malformed message to r${to}`);
  }

  private badSignature(): void {
    const d = this.deps;
    const victim = walletAccountId(d.rng.pick(d.correctClients));
    const me = walletAccountId(this.spec.clientId);
    const ops = [
      () => transferOperation(victim, me, BigInt(d.rng.int(1, 100)), d.rng.int(1, 1000), d.strangerKey.privateKey),
      () => depositOperation(me, BigInt(d.rng.int(1, 100)), d.rng.int(1, 1000), d.strangerKey.privateKey),
      () => ({ ...registerOperation(me, d.strangerKey), signature: 'AAAA' }),
      () => ({ ...depositOperation(victim, 5n, d.rng.int(1, 1000), d.issuerKey), amount: '500000' }),
    ];
    this.toAll(this.request(encodeOperation(d.rng.pick(ops)())));
    d.note(`client ${this.spec.clientId} [byzantine] sends a badly signed wallet operation`);
  }

  private conflictingSeq(): void {
    const d = this.deps;
    const seq = ++this.seq;
    const a = this.request(d.rng.bytes(12), seq);
    const b = this.request(d.rng.bytes(12), seq);
    d.issued(a);
    d.issued(b);
    const groupB = new Set(d.rng.shuffle(d.replicas).slice(0, d.rng.int(1, d.replicas.length - 1)));
    for (const id of d.replicas) d.send(id, groupB.has(id) ? b : a);
    d.note(`client ${this.spec.clientId} [byzantine] sends two requests with seq ${seq} (r${[...groupB].join(',r')} get the second)`);
  }

  private flood(): void {
    const d = this.deps;
    const burst = d.rng.int(5, 40);
    for (let i = 0; i < burst; i++) {
      const variant = d.rng.int(0, 3);
      if (variant === 0) this.toAll(this.request(d.rng.bytes(8), this.seq + d.rng.int(300, 100_000)));
      else if (variant === 1) {
        this.session++;
        this.seq = 0;
        this.toAll(this.request(d.rng.bytes(8)));
      } else if (variant === 2) this.toAll(this.request(d.rng.bytes(d.rng.int(1000, 20_000))));
      else this.toAll(this.request(d.rng.bytes(8)));
    }
    d.note(`client ${this.spec.clientId} [byzantine] floods ${burst} requests`);
  }
}
