/** `bulwark start`: a local cluster of n replica processes, each with its HTTPS API; Ctrl-C stops it. */
import { startLocalCluster } from './local-cluster.ts';
import type { ByzantineBehaviour } from './byzantine-replica.ts';

export interface StartOptions {
  replicas: number;
  dir: string;
  basePort: number;
  apiBasePort: number;
  byzantine?: Map<number, ByzantineBehaviour>;
}

export async function startCommand(o: StartOptions): Promise<void> {
  const cluster = await startLocalCluster({ dir: o.dir, replicas: o.replicas, basePort: o.basePort, apiBasePort: o.apiBasePort, ...(o.byzantine ? { byzantine: o.byzantine } : {}) });
  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${why}: stopping ${cluster.processes.size} replicas...`);
    await cluster.stop();
    console.log('stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('Ctrl-C'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  for (const [id, child] of cluster.processes) {
    child.once('exit', (code, signal) => {
      if (!stopping) console.log(`replica ${id} exited (${signal ?? code}); see ${cluster.logPaths[id]}`);
    });
  }
  try {
    await cluster.waitHealthy(60_000);
  } catch (e) {
    console.error(String(e));
    await cluster.stop();
    process.exit(1);
  }
  const f = cluster.config.f;
  console.log(`Bulwark: ${cluster.config.replicas.length} replicas up (f = ${f}), each serving the wallet API over HTTPS (TLS 1.3):`);
  cluster.config.replicas.forEach((r, i) => console.log(`  replica ${r.id}: ${cluster.urls[i]}   log: ${cluster.logPaths[i]}`));
  console.log(`CA certificate:   ${cluster.caPath}`);
  console.log(`Cluster config:   ${cluster.configPath}`);
  console.log(`API docs:         ${cluster.urls[0]}/docs`);
  console.log(`Try:              npx bulwark wallet keygen --out alice.key`);
  console.log('Press Ctrl-C to stop.');
}
