/** Replica configuration (units in names) and the dependencies a replica is built with. */
import type { Hasher, Signer, Verifier } from '../crypto/signature.ts';
import type { CodecLimits } from './codec.ts';
import { DEFAULT_LIMITS } from './codec.ts';
import type { ReplicatedService } from './service.ts';
import type { View } from './view.ts';

export interface ReplicaOptions {
  /** This replica's id (a member of `view`). */
  readonly id: number;
  readonly view: View;
  /** Most requests the leader puts in one PROPOSE. */
  readonly batchRequestsMax: number;
  /** A pending ordered request older than this makes the replica ask for a new leader (STOP). */
  readonly requestTimeoutMs: number;
  /** Ordered requests a client may have outstanding beyond its last executed one. */
  readonly pendingPerClientMax: number;
  /** Pending ordered requests over all clients. */
  readonly pendingTotalMax: number;
  /** Replies kept per client for retransmissions. */
  readonly repliesKeptPerClient: number;
  /** Future consensus instances whose messages are held until we get there. */
  readonly instancesAheadMax: number;
  /** Future regencies whose STOP/STOPDATA/SYNC and votes are held. */
  readonly regenciesAheadMax: number;
  /** Messages held per sender (future instances or regencies). */
  readonly heldPerSenderMax: number;
  /** Decided instances kept in memory to serve DECISION_REQUESTs from lagging replicas. */
  readonly decisionsKept: number;
  /** Minimum interval between two catch-up requests. */
  readonly catchUpIntervalMs: number;
  readonly limits: CodecLimits;
  /**
   * Sign every reply (Ed25519) so clients can show third parties who vouched for a
   * result. Off: replies are authenticated by the client's TLS channel only, like
   * BFT-SMaRt's default MAC-authenticated channels (the reply's signature field is zeros).
   */
  readonly signReplies: boolean;
  /**
   * Every ordered request must carry its client's signature, and it is checked about once
   * per request (by the leader before it proposes it, and by a replica that did not receive
   * it or whose timeout it would start); in exchange a replica can accept a request in a
   * PROPOSE that it never received from the client (a Byzantine client can no longer stall
   * ordering by sending different requests to different replicas). Unordered reads are
   * authenticated by the client's channel and need no signature.
   */
  readonly requireSignedRequests: boolean;
  /** A checkpoint is taken after every `checkpointPeriod` instances (cid = k * period - 1). */
  readonly checkpointPeriod: number;
  /** A state transfer that makes no progress for this long tries another source. */
  readonly stateTransferTimeoutMs: number;
  /** Largest checkpoint this replica accepts in a state transfer (bytes). */
  readonly stateBytesMax: number;
  /**
   * Deliberate bugs, for the simulator's self-test only (it must catch them). Never set
   * outside tests: each one breaks safety.
   */
  readonly plantedBugs?: PlantedBugs;
}

export interface PlantedBugs {
  /** Use a Byzantine quorum one smaller than ceil((n+f+1)/2). */
  readonly quorumTooSmall?: boolean;
  /** Leave write certificates out of STOPDATA, so a new leader may forget a written value. */
  readonly forgetWriteCertificates?: boolean;
  /**
   * Restart without the fence: a replica that lost its deferred WRITE-phase record may
   * PROPOSE or WRITE again in the regency it recovered (recovery.ts).
   */
  readonly noRestartFence?: boolean;
}

export const DEFAULT_OPTIONS: Omit<ReplicaOptions, 'id' | 'view'> = {
  batchRequestsMax: 1024,
  requestTimeoutMs: 2000,
  pendingPerClientMax: 256,
  pendingTotalMax: 100_000,
  repliesKeptPerClient: 256,
  instancesAheadMax: 8,
  regenciesAheadMax: 16,
  heldPerSenderMax: 512,
  decisionsKept: 4096,
  catchUpIntervalMs: 250,
  limits: DEFAULT_LIMITS,
  signReplies: true,
  requireSignedRequests: false,
  checkpointPeriod: 1024,
  stateTransferTimeoutMs: 2000,
  stateBytesMax: 4 * 1024 ** 3,
};

export interface ReplicaDependencies {
  readonly service: ReplicatedService;
  /** This replica's signing key (its certificate's key). */
  readonly signer: Signer;
  /** Public keys of the view's replicas. */
  readonly verifier: Verifier;
  readonly hash: Hasher;
  /** Public keys of clients (from their certificates), for signed requests. */
  readonly clientVerifier?: Verifier;
}
