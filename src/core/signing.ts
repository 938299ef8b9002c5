/**
 * The exact bytes each signature covers, with a domain tag per purpose so that a
 * signature made for one message can never be replayed as another.
 */
import type { Hasher } from '../crypto/signature.ts';
import { ByteWriter } from './bytes.ts';
import { merkleLeaf } from './merkle.ts';
import { MessageType } from './messages.ts';

const encoder = new TextEncoder();
const TAG_WRITE = encoder.encode('bulwark/write/v1');
const TAG_ACCEPT = encoder.encode('bulwark/accept/v1');
const TAG_REPLY = encoder.encode('bulwark/reply/v1');
const TAG_REPLY_ROOT = encoder.encode('bulwark/replies/v1');
const TAG_REQUEST = encoder.encode('bulwark/request/v1');
const TAG_REQUEST_ROOT = encoder.encode('bulwark/requests/v1');

/** What a WRITE or ACCEPT signature covers: (type, cid, regency, digest of the value). */
export function voteSigningMessage(type: typeof MessageType.WRITE | typeof MessageType.ACCEPT, cid: number, regency: number, digest: Uint8Array): Uint8Array {
  return new ByteWriter(96)
    .raw(type === MessageType.WRITE ? TAG_WRITE : TAG_ACCEPT)
    .u53(cid)
    .u53(regency)
    .raw(digest)
    .finish();
}

/**
 * A Merkle leaf of a client's request (merkle.ts): its identity in the client's sequence and
 * the payload's digest. A client signs the root over the requests it sends in one turn
 * (`requestRootSigningMessage`); a request sent alone is a one-leaf tree, its root the leaf.
 */
export function requestSigningMessage(clientId: number, session: number, seq: number, ordered: boolean, payloadDigest: Uint8Array): Uint8Array {
  return new ByteWriter(96).raw(TAG_REQUEST).u32(clientId).u53(session).u53(seq).u8(ordered ? 1 : 0).raw(payloadDigest).finish();
}

/**
 * What a client signs for the requests it sends in one turn: the root of the Merkle tree
 * whose leaves are their `requestSigningMessage`s. One signature per turn, as replicas
 * sign replies (`replyRootSigningMessage`); docs/performance.md, lever 42.
 */
export function requestRootSigningMessage(clientId: number, root: Uint8Array): Uint8Array {
  return new ByteWriter(64).raw(TAG_REQUEST_ROOT).u32(clientId).raw(root).finish();
}

/** A request's leaf in its client's turn tree: the Merkle leaf of its `requestSigningMessage`. */
export function requestLeaf(hash: Hasher, clientId: number, session: number, seq: number, ordered: boolean, payloadDigest: Uint8Array): Uint8Array {
  return merkleLeaf(hash, requestSigningMessage(clientId, session, seq, ordered, payloadDigest));
}

/** What a client signs for a request sent alone: the root message of its one-leaf tree (the root is its leaf). */
export function loneRequestSigningMessage(hash: Hasher, clientId: number, session: number, seq: number, ordered: boolean, payloadDigest: Uint8Array): Uint8Array {
  return requestRootSigningMessage(clientId, requestLeaf(hash, clientId, session, seq, ordered, payloadDigest));
}

/**
 * What a replica signs for a batch of replies: the root of the Merkle tree whose leaves
 * are the replies' `replySigningMessage`s (merkle.ts). One signature per batch.
 */
export function replyRootSigningMessage(replicaId: number, root: Uint8Array): Uint8Array {
  return new ByteWriter(64).raw(TAG_REPLY_ROOT).u32(replicaId).raw(root).finish();
}

/**
 * A Merkle leaf of a replica's reply: (replica, client, session, seq, ordered, SHA-256 of the result).
 * A client that does not trust the replica it talks to checks f+1 of these.
 */
export function replySigningMessage(replicaId: number, clientId: number, session: number, seq: number, ordered: boolean, resultDigest: Uint8Array): Uint8Array {
  return new ByteWriter(96)
    .raw(TAG_REPLY)
    .u32(replicaId)
    .u32(clientId)
    .u53(session)
    .u53(seq)
    .u8(ordered ? 1 : 0)
    .raw(resultDigest)
    .finish();
}
