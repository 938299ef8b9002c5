/**
 * The life cycle the durability benchmark scripts (bench/durability-*.ts) share: at most
 * one benchmark cluster, and for the Redis store one private redis-server, at a time; both
 * closed after each run, on SIGINT/SIGTERM (exit 130) and when the script fails (exit 1).
 * A run's replica logs are kept on request (`keepLogs`) or when it failed.
 */
import type { ClusterConfig } from '../../src/cli/cluster-config.ts';
import { startBenchCluster, type BenchCluster, type BenchClusterOptions } from './bench-cluster.ts';
import { redisServerMissing, startRedisServer, type RedisServer } from './redis-server.ts';

export type BenchStorageKind = 'embedded' | 'memory' | 'redis';

export class BenchRuns {
  private cluster: BenchCluster | undefined;
  private redis: RedisServer | undefined;
  private interrupted = false;
  /** Every close so far, in order: whoever exits awaits all of them (no orphan redis-server). */
  private closing: Promise<void> = Promise.resolve();

  /** Installs the signal handlers. @param log where to say that logs were kept. */
  constructor(private readonly options: { readonly log: (line: string) => void; readonly keepLogs: boolean }) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        this.interrupted = true;
        void this.closeAll().then(() => process.exit(130));
      });
    }
  }

  /**
   * The replicas' storage for one run on `kind`; for 'redis' it starts this run's private
   * redis-server. @throws Error if `kind` is 'redis' and no redis-server is installed.
   */
  async storage(kind: BenchStorageKind): Promise<NonNullable<ClusterConfig['storage']>> {
    if (kind !== 'redis') return { kind };
    const missing = redisServerMissing();
    if (missing) throw new Error(missing);
    this.redis = await startRedisServer();
    return { kind: 'redis', url: this.redis.url };
  }

  /**
   * Starts a benchmark cluster, runs `body` on it, then closes it and this run's Redis,
   * whatever `body` did. @returns what `body` returns. @throws what `body` throws.
   */
  async withCluster<T>(options: BenchClusterOptions, body: (c: BenchCluster) => Promise<T>): Promise<T> {
    const c = (this.cluster = await startBenchCluster(options));
    try {
      return await body(c);
    } catch (e) {
      if (!this.options.keepLogs && !this.interrupted) this.options.log(`failed; replica logs kept in ${c.keepLogs()}`);
      throw e;
    } finally {
      if (this.options.keepLogs) this.options.log(`replica logs kept in ${c.keepLogs()}`);
      await this.closeAll();
    }
  }

  /** Runs the script's `main`: exit 0, or print the error, close what is open and exit 1. */
  main(main: () => Promise<void>): void {
    main().then(
      () => process.exit(0),
      async (e: unknown) => {
        // Interrupted: the run failed because its cluster was closed under it; not news.
        if (!this.interrupted) console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
        await this.closeAll();
        process.exit(this.interrupted ? 130 : 1);
      },
    );
  }

  private closeAll(): Promise<void> {
    const cluster = this.cluster;
    const redis = this.redis;
    this.cluster = undefined;
    this.redis = undefined;
    this.closing = this.closing.then(async () => {
      // The cluster first: its replicas are Redis's clients.
      await cluster?.close().catch(() => undefined);
      await redis?.stop().catch(() => undefined);
    });
    return this.closing;
  }
}
