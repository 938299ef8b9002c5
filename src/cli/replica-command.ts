/** `bulwark replica`: one replica process from a cluster file; SIGTERM/SIGINT close it cleanly. */
import { loadClusterConfig } from './cluster-config.ts';
import { runReplica } from './replica-process.ts';
import type { ByzantineBehaviour } from './byzantine-replica.ts';

export async function replicaCommand(o: { config: string; id: number; byzantine?: ByzantineBehaviour }): Promise<void> {
  const config = loadClusterConfig(o.config);
  const running = await runReplica(config, o.id, o.byzantine);
  const stop = async (): Promise<void> => {
    await running.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  if (process.env['BULWARK_EXIT_WITH_PARENT'] === '1') {
    // Started by a local cluster (bulwark start, a benchmark, a test): if that process dies
    // without stopping us (SIGKILL, a timeout), do not linger as an orphan.
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) void stop();
    }, 500).unref();
  }
}
