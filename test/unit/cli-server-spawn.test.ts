import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { requestedPolicy, serverCommand, serverPolicy } from '../../src/cli/server-spawn.ts';

/** The scheduling policy of the process that runs `command` (field 41 of /proc/self/stat: 0 SCHED_OTHER, 3 SCHED_BATCH). */
function policyOfChild(command: { file: string; args: string[] }): number {
  const r = spawnSync(command.file, command.args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

const PRINT_POLICY = ['-e', "const s = require('fs').readFileSync('/proc/self/stat', 'utf8'); process.stdout.write(s.slice(s.lastIndexOf(') ') + 2).split(' ')[38])"];
const linux = process.platform === 'linux';

describe('server processes of a local cluster (server-spawn)', () => {
  it('asks for SCHED_BATCH unless BULWARK_REPLICA_SCHED says other, and refuses anything else', () => {
    assert.equal(requestedPolicy({}), 'batch');
    assert.equal(requestedPolicy({ BULWARK_REPLICA_SCHED: 'other' }), 'other');
    assert.throws(() => requestedPolicy({ BULWARK_REPLICA_SCHED: 'fifo' }), /must be "batch" or "other", not "fifo"/);
    assert.throws(() => serverCommand([], { BULWARK_REPLICA_SCHED: '' }), /BULWARK_REPLICA_SCHED/);
  });

  it('under the default policy: Node itself, with the flags of BULWARK_REPLICA_NODE_ARGS first', () => {
    const command = serverCommand(['app.js', 'x'], { BULWARK_REPLICA_SCHED: 'other', BULWARK_REPLICA_NODE_ARGS: ' --cpu-prof  --cpu-prof-dir=/tmp/p ' });
    assert.deepEqual(command, { file: process.execPath, args: ['--cpu-prof', '--cpu-prof-dir=/tmp/p', 'app.js', 'x'], policy: 'other' });
    if (linux) assert.equal(policyOfChild(serverCommand(PRINT_POLICY, { BULWARK_REPLICA_SCHED: 'other' })), 0);
  });

  it('a process started by the batch command really runs under SCHED_BATCH, in the PID it was given', { skip: !linux || serverPolicy({}) !== 'batch' ? 'chrt is not available here' : false }, () => {
    const command = serverCommand(PRINT_POLICY, {});
    assert.equal(command.policy, 'batch');
    assert.equal(policyOfChild(command), 3);
    // chrt execs Node in its own process: the PID a launcher holds is the server's.
    const ppid = spawnSync(command.file, [...command.args.slice(0, -2), '-e', 'process.stdout.write(String(process.ppid))'], { encoding: 'utf8' });
    assert.equal(Number(ppid.stdout), process.pid, 'the server is a direct child of the launcher');
  });
});
