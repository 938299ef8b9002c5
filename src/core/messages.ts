import type { MerkleProof } from './merkle.ts';

/**
 * Protocol messages: one tagged type each, named after Mod-SMaRt (Sousa & Bessani,
 * EDCC 2012) and BFT-SMaRt. Encodings live in `codec.ts`, signed payloads in `signing.ts`.
 *
 * Client <-> replica: REQUEST, REPLY.
 * Normal case (VP-Consensus, §4): PROPOSE (leader -> all), WRITE, ACCEPT (all -> all).
 * Synchronization phase / leader change (§5): STOP, STOPDATA (-> new leader), SYNC (new leader -> all).
 * Catch-up: DECISION_REQUEST / DECISION_REPLY fetch decided instances with their proofs.
 * Checkpoints and state transfer (PBFT §4.3 / BFT-SMaRt's state management): CHECKPOINT
 * reports a signed state digest; STATE_REQUEST, STATE_CHUNK_REQUEST and STATE_CHUNK move
 * a stable checkpoint to a replica that is too far behind for the log.
 */

export const MessageType = {
  REQUEST: 1,
  REPLY: 2,
  PROPOSE: 3,
  WRITE: 4,
  ACCEPT: 5,
  STOP: 6,
  STOPDATA: 7,
  SYNC: 8,
  DECISION_REQUEST: 9,
  DECISION_REPLY: 10,
  CHECKPOINT: 11,
  STATE_REQUEST: 12,
  STATE_CHUNK_REQUEST: 13,
  STATE_CHUNK: 14,
  SYNC_REQUEST: 15,
  SYNC_FORWARD: 16,
} as const;

/**
 * A client request. (clientId, session, seq) identifies it: `session` is chosen by the
 * client when it starts (it must grow across restarts), `seq` counts from 1 within a
 * session for ordered requests. Unordered requests use their own sequence space.
 */
export interface Request {
  readonly type: typeof MessageType.REQUEST;
  readonly clientId: number;
  readonly session: number;
  readonly seq: number;
  readonly ordered: boolean;
  readonly payload: Uint8Array;
  /**
   * The client's Ed25519 signature over `requestRootSigningMessage(clientId, root)`, where
   * root is that of the Merkle tree over the requests the client sent in one turn (their
   * `requestSigningMessage`s), when the cluster requires signed requests: any replica can
   * then check a request it did not receive from the client itself (e.g. inside a PROPOSE).
   */
  readonly signature?: Uint8Array;
  /** With `signature`: this request's path to the signed root. Absent: the request was the tree's only leaf. */
  readonly proof?: MerkleProof;
  /**
   * Unordered requests only: the one replica asked for the full result; the others reply
   * with its SHA-256 digest (PBFT's digest replies, Castro & Liskov, TOCS 2002, §5.1.1).
   * Not covered by `signature`: it changes only the form of the replies, never what is
   * executed, and the client's TLS channel already authenticates it.
   */
  readonly replier?: number;
}

/** A replica's reply, signed so that a third party can check who vouched for the result. */
export interface Reply {
  readonly type: typeof MessageType.REPLY;
  readonly replicaId: number;
  readonly clientId: number;
  readonly session: number;
  readonly seq: number;
  readonly ordered: boolean;
  /** The result, or its SHA-256 digest (32 bytes) when `resultIsDigest`. */
  readonly result: Uint8Array;
  /** True when the request named another replica as its replier (`Request.replier`). */
  readonly resultIsDigest?: boolean;
  /** Path from this reply's leaf to the root of its batch's reply tree (merkle.ts). */
  readonly proof: MerkleProof;
  /** Ed25519 over `replyRootSigningMessage(replica, root)`; zeros when replies are channel-authenticated. */
  readonly signature: Uint8Array;
}

/** The value of a consensus instance: an ordered batch of requests and the leader's timestamp. */
export interface Batch {
  /** Leader's clock when proposing (ms since epoch), never below the previous batch's. */
  readonly timestampMs: number;
  readonly requests: readonly Request[];
}

export interface Propose {
  readonly type: typeof MessageType.PROPOSE;
  readonly from: number;
  readonly cid: number;
  readonly regency: number;
  /** Canonical bytes of the batch (what the digest covers). */
  readonly value: Uint8Array;
}

/** WRITE and ACCEPT carry a signature so that they can be shown to third parties (leader change, decision proofs). */
export interface Vote {
  readonly type: typeof MessageType.WRITE | typeof MessageType.ACCEPT;
  readonly from: number;
  readonly cid: number;
  readonly regency: number;
  /** SHA-256 of the proposed value. */
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
}

/** A vote's signer and signature, when the rest of the vote is implied by its certificate. */
export interface SignedVote {
  readonly from: number;
  readonly signature: Uint8Array;
}

/** A Byzantine quorum of WRITEs for one value: proof that the value may have been accepted. */
export interface WriteCertificate {
  readonly cid: number;
  readonly regency: number;
  readonly value: Uint8Array;
  readonly writes: readonly SignedVote[];
}

/** A Byzantine quorum of ACCEPTs for one value: proof that the value was decided. */
export interface Decision {
  readonly cid: number;
  readonly regency: number;
  readonly value: Uint8Array;
  readonly accepts: readonly SignedVote[];
}

/** Sent by a replica that wants the regency to change to `regency`. */
export interface Stop {
  readonly type: typeof MessageType.STOP;
  readonly from: number;
  readonly regency: number;
}

/** A replica's state for the new leader of `regency`, signed so the leader can relay it in SYNC. */
export interface StopData {
  readonly type: typeof MessageType.STOPDATA;
  readonly from: number;
  readonly regency: number;
  /** The sender's last decided instance with its proof (null before the first decision). */
  readonly lastDecided: Decision | null;
  /** The highest-regency write certificate the sender holds for the instance after `lastDecided`. */
  readonly writeCertificate: WriteCertificate | null;
  readonly signature: Uint8Array;
}

/** The new leader's synchronization message: the STOPDATAs it collected and the value it proposes next. */
export interface Sync {
  readonly type: typeof MessageType.SYNC;
  readonly from: number;
  readonly regency: number;
  readonly stopData: readonly StopData[];
  /** Instance the proposal is for: one past the highest decided instance among stopData. */
  readonly cid: number;
  /** Canonical batch bytes proposed for `cid` (must be the bound value if one exists). */
  readonly value: Uint8Array;
  /** The new leader's signature, so that any replica can forward this SYNC to one that missed it. */
  readonly signature: Uint8Array;
}

/** Asks for the SYNC of a regency at least `regency` (sent by a replica that missed a leader change). */
export interface SyncRequest {
  readonly type: typeof MessageType.SYNC_REQUEST;
  readonly from: number;
  readonly regency: number;
}

/** Another replica's copy of a leader's signed SYNC. */
export interface SyncForward {
  readonly type: typeof MessageType.SYNC_FORWARD;
  readonly from: number;
  readonly sync: Sync;
}

export interface DecisionRequest {
  readonly type: typeof MessageType.DECISION_REQUEST;
  readonly from: number;
  /** First instance wanted. */
  readonly fromCid: number;
}

export interface DecisionReply {
  readonly type: typeof MessageType.DECISION_REPLY;
  readonly from: number;
  /** The sender's latest stable checkpoint (-1 if none): decisions up to it may no longer be held. */
  readonly checkpointCid: number;
  readonly decisions: readonly Decision[];
}

/**
 * A replica's signed report of its state digest after executing instance `cid`. f+1
 * matching reports vouch for a digest; a Byzantine quorum makes the checkpoint stable.
 */
export interface Checkpoint {
  readonly type: typeof MessageType.CHECKPOINT;
  readonly from: number;
  readonly cid: number;
  /** SHA-256 of the canonical checkpoint bytes. */
  readonly digest: Uint8Array;
  /** Length of the checkpoint bytes, so a fetcher can bound what it accepts. */
  readonly byteLength: number;
  readonly signature: Uint8Array;
}

/** Asks for the sender's latest stable checkpoint (answered with its CHECKPOINT report). */
export interface StateRequest {
  readonly type: typeof MessageType.STATE_REQUEST;
  readonly from: number;
}

export interface StateChunkRequest {
  readonly type: typeof MessageType.STATE_CHUNK_REQUEST;
  readonly from: number;
  readonly cid: number;
  readonly index: number;
}

export interface StateChunk {
  readonly type: typeof MessageType.STATE_CHUNK;
  readonly from: number;
  readonly cid: number;
  readonly index: number;
  /** Number of chunks in the whole checkpoint. */
  readonly total: number;
  readonly bytes: Uint8Array;
}

export type ReplicaMessage =
  | Propose
  | Vote
  | Stop
  | StopData
  | Sync
  | DecisionRequest
  | DecisionReply
  | Checkpoint
  | StateRequest
  | StateChunkRequest
  | StateChunk
  | SyncRequest
  | SyncForward;
export type Message = Request | Reply | ReplicaMessage;
