/**
 * How a local cluster starts its server processes (replicas, `bench limit`'s echo servers):
 * Node with the flags of `BULWARK_REPLICA_NODE_ARGS`, under Linux's SCHED_BATCH policy.
 *
 * Why SCHED_BATCH. A local cluster puts n replicas (and their gateways, and a benchmark's
 * client) on one machine, usually with fewer cores than processes. Under the default policy
 * every message a replica writes wakes its receiver, and the woken process preempts the
 * writer in the middle of its turn: in CPU profiles a TLS socket write (`writeBuffer`) is the
 * largest single item, most of it time the writer spent descheduled (docs/performance.md).
 * Under SCHED_BATCH a wakeup does not preempt: a replica finishes its turn (all its writes
 * of one event-loop iteration) and the receivers run when a core frees up. Same CPU share,
 * fewer context switches. Measured (lever 43, docs/performance.md): +9 % ops/s at peak and
 * 9 % less CPU per operation; at one client −17 % on the p50 in one hour, nothing in another.
 * Replicas on machines of their own gain nothing from it, so `bulwark replica` itself
 * does not ask for it; only the launchers of local clusters do.
 *
 * The policy is set by util-linux's `chrt` (Node has no sched_setscheduler binding), which
 * then execs Node in the same process: PIDs are the launcher's to signal as before.
 * Unprivileged users may choose SCHED_BATCH. Without `chrt` (not Linux) the processes
 * start under the default policy. `BULWARK_REPLICA_SCHED=other` asks for the default policy,
 * to compare.
 */
import { spawnSync } from 'node:child_process';

/** The scheduling policy asked for by `BULWARK_REPLICA_SCHED`: 'batch' (default) or 'other'. */
export function requestedPolicy(env: NodeJS.ProcessEnv = process.env): 'batch' | 'other' {
  const value = env['BULWARK_REPLICA_SCHED'] ?? 'batch';
  if (value !== 'batch' && value !== 'other') throw new Error(`BULWARK_REPLICA_SCHED must be "batch" or "other", not ${JSON.stringify(value)}`);
  return value;
}

let chrtWorks: boolean | undefined;

/** Whether `chrt --batch 0` can run a command here (checked once per process). */
function batchAvailable(): boolean {
  chrtWorks ??= spawnSync('chrt', ['--batch', '0', 'true'], { stdio: 'ignore' }).status === 0;
  return chrtWorks;
}

/** The policy a server process started now runs under: the requested one, if this machine can set it. */
export function serverPolicy(env: NodeJS.ProcessEnv = process.env): 'batch' | 'other' {
  return requestedPolicy(env) === 'batch' && batchAvailable() ? 'batch' : 'other';
}

/**
 * The command that runs Node on `args` as a local cluster's server process.
 * @param args Node's arguments after the flags of `BULWARK_REPLICA_NODE_ARGS` (which are
 *   split on spaces, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 * @returns `file` and `args` for `child_process.spawn`; `policy` says which scheduling
 *   policy the process will run under.
 * @throws Error if `BULWARK_REPLICA_SCHED` holds something other than "batch" or "other".
 */
export function serverCommand(args: readonly string[], env: NodeJS.ProcessEnv = process.env): { file: string; args: string[]; policy: 'batch' | 'other' } {
  const nodeArgs = (env['BULWARK_REPLICA_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const node = [...nodeArgs, ...args];
  if (serverPolicy(env) === 'batch') return { file: 'chrt', args: ['--batch', '0', process.execPath, ...node], policy: 'batch' };
  return { file: process.execPath, args: node, policy: 'other' };
}
