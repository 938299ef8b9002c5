/**
 * A hook between a replica's core and the network: it sees what the replica receives from
 * other replicas and may rewrite what the core wants to send. The host knows nothing of
 * what it does; cli/ wires in the simulator's Byzantine behaviours (`byzantine-replica.ts`)
 * for tests and benchmarks. A production replica has none.
 */
import type { OutboundMessage, OutboundReply, Ready } from '../core/ready.ts';
import type { Replica } from '../core/replica.ts';

/** One Ready's outputs after interception: what to send now, and what to send after a delay (ms). */
export interface InterceptedOutputs {
  readonly ready: Ready;
  readonly delayed: readonly { readonly delayMs: number; readonly messages: readonly OutboundMessage[]; readonly replies: readonly OutboundReply[] }[];
}

export interface OutputInterceptor {
  /** A message this replica received from replica `from` (before the core sees it). */
  onReceived(from: number, bytes: Uint8Array): void;
  /** Rewrites the messages and replies of `ready`; persist records and events must be kept as they are. */
  rewrite(core: Replica, ready: Ready): InterceptedOutputs;
}
