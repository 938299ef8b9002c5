/**
 * The `bulwark` command line. commander is used for parsing (fast start, the most used
 * Node CLI parser); each command lives in its own file.
 */
import './v8-flags.ts'; // first: V8 settings must be in place before any hot code runs
import { Command, InvalidArgumentError, Option } from 'commander';
import { BYZANTINE_BEHAVIOURS, type ByzantineBehaviour } from './byzantine-replica.ts';

const int = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};

/** Parses `id:behaviour` pairs for --byzantine on `start`. */
function byzantineMap(v: string, prev: Map<number, ByzantineBehaviour> = new Map()): Map<number, ByzantineBehaviour> {
  const [id, behaviour] = v.split(':');
  if (!id || !behaviour || !(BYZANTINE_BEHAVIOURS as readonly string[]).includes(behaviour)) throw new InvalidArgumentError(`expected <id>:<${BYZANTINE_BEHAVIOURS.join('|')}>`);
  prev.set(int('replica id')(id), behaviour as ByzantineBehaviour);
  return prev;
}

const program = new Command('bulwark').description('Byzantine-fault-tolerant replication for Node.js, and a BFT wallet on it').showHelpAfterError();

program
  .command('start')
  .description('start a local cluster: n replica processes, each with its HTTPS wallet API')
  .option('-n, --replicas <n>', 'number of replicas (n = 3f+1)', int('replicas'), 4)
  .option('--dir <dir>', 'folder for the cluster config, PKI and logs', '.bulwark/local')
  .option('--base-port <port>', 'replica i listens for replicas and clients on base-port + i', int('port'), 11000)
  .option('--api-base-port <port>', 'replica i serves HTTPS on api-base-port + i', int('port'), 8443)
  .option('--byzantine <id:behaviour>', `make a replica misbehave (${BYZANTINE_BEHAVIOURS.join(', ')}); repeatable`, byzantineMap)
  .action(async (o) => {
    const { startCommand } = await import('./start-command.ts');
    await startCommand(o);
  });

program
  .command('replica')
  .description('run one replica (and its HTTPS API) from a cluster configuration file')
  .requiredOption('--config <file>', 'cluster.json')
  .requiredOption('--id <id>', 'this replica id', int('id'))
  .addOption(new Option('--byzantine <behaviour>', 'misbehave (tests and benchmarks only)').choices([...BYZANTINE_BEHAVIOURS]))
  .action(async (o) => {
    const { replicaCommand } = await import('./replica-command.ts');
    await replicaCommand(o);
  });

const wallet = program
  .command('wallet')
  .description('use the wallet over HTTPS; every answer is checked against f+1 replica signatures')
  .option('--cluster <file>', 'cluster configuration', '.bulwark/local/cluster.json')
  .option('--url <url>', "a replica's API URL (default: the first replica's)")
  .option('--json', 'print JSON instead of text');
const globals = (cmd: Command) => cmd.optsWithGlobals() as { cluster: string; url?: string; json?: boolean };
const nonce = int('nonce');

wallet
  .command('keygen')
  .description('create an Ed25519 private key for an account owner')
  .requiredOption('--out <file>', 'where to write the PKCS#8 PEM key')
  .option('--force', 'overwrite')
  .action(async (o, cmd: Command) => (await import('./wallet-command.ts')).keygen({ ...globals(cmd), ...o }));
wallet
  .command('register')
  .description('register an account owned by a key')
  .requiredOption('--account <id>', 'account id ([A-Za-z0-9_-]{1,64})')
  .requiredOption('--key <file>', "the owner's private key")
  .action(async (o, cmd: Command) => (await import('./wallet-command.ts')).register({ ...globals(cmd), ...o }));
wallet
  .command('deposit')
  .description("deposit money, authorised by the cluster's issuer key")
  .requiredOption('--account <id>', 'account id')
  .requiredOption('--amount <minor-units>', 'positive integer in minor currency units (e.g. cents)')
  .option('--issuer-key <file>', 'issuer private key (default: the cluster PKI issuer.key)')
  .option('--nonce <n>', 'deposit nonce (default: last + 1)', nonce)
  .action(async (o, cmd: Command) => (await import('./wallet-command.ts')).deposit({ ...globals(cmd), ...o }));
wallet
  .command('transfer')
  .description("transfer money, signed by the source account owner's key")
  .requiredOption('--from <id>', 'source account')
  .requiredOption('--to <id>', 'destination account')
  .requiredOption('--amount <minor-units>', 'positive integer in minor currency units')
  .requiredOption('--key <file>', "the source owner's private key")
  .option('--nonce <n>', 'transfer nonce (default: last + 1)', nonce)
  .action(async (o, cmd: Command) => (await import('./wallet-command.ts')).transfer({ ...globals(cmd), ...o }));
wallet
  .command('balance')
  .description("an account's balance")
  .requiredOption('--account <id>', 'account id')
  .action(async (o, cmd: Command) => (await import('./wallet-command.ts')).balance({ ...globals(cmd), ...o }));
wallet
  .command('ledger')
  .description("the global ledger (oldest first), or an account's ledger (newest first) with --account")
  .option('--account <id>', 'account id')
  .option('--limit <n>', 'entries per page (1..1000)', int('limit'), 20)
  .option('--cursor <cursor>', 'page cursor from a previous answer')
  .action(async (o, cmd: Command) => (await import('./wallet-command.ts')).ledger({ ...globals(cmd), ...o }));

const bench = program.command('bench').description('benchmarks');
bench
  .command('seed')
  .description("the source report's benchmark: 300 operations each of register, deposit, transfer and ledger, in three scenarios")
  .option('--operations <n>', 'operations per kind', int('operations'), 300)
  .option('--dir <dir>', 'folder for the benchmark cluster', '.bulwark/bench-seed')
  .option('--scenarios <list>', 'comma-separated: no-fault,crash,byzantine', 'no-fault,crash,byzantine')
  .option('--json', 'print the results as JSON')
  .option('--full-evidence', 'ask for the signed result bytes in every answer (default: compact evidence, Prefer: evidence=compact)')
  .action(async (o) => (await import('./bench-seed.ts')).benchSeed(o));

bench
  .command('micro')
  .description("BFT-SMaRt's ThroughputLatency shape: a no-op service, C closed-loop clients, n replicas over mutual TLS")
  .option('--replicas <n>', 'replicas', int('replicas'), 4)
  .option('--clients <c>', 'clients, each with its own id and connections', int('clients'), 1)
  .option('--window <w>', 'requests each client keeps outstanding', int('window'), 1)
  .option('--request-bytes <r>', 'request payload size', int('request-bytes'), 0)
  .option('--reply-bytes <p>', 'reply size', int('reply-bytes'), 0)
  .option('--warmup-s <s>', 'warm-up seconds', int('warmup-s'), 3)
  .option('--measure-s <s>', 'measurement seconds', int('measure-s'), 10)
  .option('--unordered', 'read-only requests without ordering')
  .option('--digest-replies', 'with --unordered: one replica sends the full result, the others its digest')
  .option('--signed-replies', 'replicas sign every reply and the client checks them')
  .option('--signed-requests', 'clients sign every request and the replicas check it')
  .option('--presign', 'with --signed-requests: sign the expected requests before the warm-up, as clients on other machines would')
  .option('--encrypted-store', "encrypt the replicas' in-memory log (XChaCha20-Poly1305) as durable stores are")
  .option('--base-port <port>', 'first replica port', int('port'), 15000)
  .option('--runs <k>', 'run k times; report each run and the medians (with --json: the medians, and each run under "runs")', int('runs'), 1)
  .option('--json', 'one JSON object on stdout')
  .action(async (o) => (await import('./bench-micro.ts')).benchMicro(o));

bench
  .command('limit')
  .description("the machine's ceiling for this message pattern: one client, n echo servers over the same TLS transport and codec, no consensus")
  .option('--replicas <n>', 'servers', int('replicas'), 4)
  .option('--window <w>', 'requests in flight', int('window'), 100)
  .option('--request-bytes <r>', 'request payload size', int('request-bytes'), 0)
  .option('--reply-bytes <p>', 'reply size', int('reply-bytes'), 0)
  .option('--warmup-s <s>', 'warm-up seconds', int('warmup-s'), 2)
  .option('--measure-s <s>', 'measurement seconds', int('measure-s'), 5)
  .option('--base-port <port>', 'first server port', int('port'), 15800)
  .option('--json', 'one JSON object on stdout')
  .action(async (o) => (await import('./bench-limit.ts')).benchLimit(o));

bench
  .command('wallet')
  .description('signed wallet operations through every replica\'s HTTPS API: transfers, the SmallBank mix, or 300-entry ledger pages')
  .addOption(new Option('--workload <w>', 'transfers, smallbank or ledger').choices(['transfers', 'smallbank', 'ledger']).default('transfers'))
  .option('--clients <c>', 'concurrent closed-loop clients (with --rate: the most operations in flight)', int('clients'), 32)
  .option('--rate <ops>', 'open loop: operations arrive at this rate (ops/s, Poisson) and latency counts from when each was due', int('rate'))
  .option('--accounts-per-client <a>', 'accounts (transfers) or customers (smallbank) each client owns', int('accounts'), 4)
  .option('--warmup-s <s>', 'warm-up seconds', int('warmup-s'), 3)
  .option('--measure-s <s>', 'measurement seconds', int('measure-s'), 10)
  .addOption(new Option('--storage <kind>', 'replica storage').choices(['embedded', 'memory', 'redis']).default('embedded'))
  .option('--redis-url <url>', 'Redis server for --storage redis (appendfsync always)')
  .option('--verify', 'check every answer\'s f+1 signatures in the client, like the CLI')
  .option('--full-evidence', 'ask for the signed result bytes in every answer (default: compact evidence, Prefer: evidence=compact)')
  .option('--base-port <port>', 'first replica port', int('port'), 16000)
  .option('--runs <k>', 'run k times; report each run and the medians (with --json: the medians, and each run under "runs")', int('runs'), 1)
  .option('--json', 'one JSON object on stdout')
  .action(async (o) => (await import('./bench-wallet.ts')).benchWallet(o));

bench
  .command('sweep')
  .description('throughput vs latency: bench micro over client counts and configurations, to a JSON file and an SVG chart')
  .option('--clients <list>', 'comma-separated client counts', '1,2,4,8,16,32,64')
  .option('--configs <list>', 'comma-separated configurations, each +-joined parts: R/P (request/reply bytes), signed (signed requests), nN (replicas)', '0/0,1024/0,signed')
  .option('--window <w>', 'requests each client keeps outstanding', int('window'), 1)
  .option('--warmup-s <s>', 'warm-up seconds per point', int('warmup-s'), 3)
  .option('--measure-s <s>', 'measurement seconds per point', int('measure-s'), 10)
  .option('--base-port <port>', 'first replica port of every point (replicas use base-port + i, their APIs base-port + 500 + i)', int('port'), 17000)
  .option('--out <file>', 'JSON file of all points', 'docs/figures/throughput-latency.json')
  .option('--svg <file>', 'the chart (default: --out with .svg)')
  .option('--no-plot', 'write the JSON only')
  .action(async (o) => (await import('./bench-sweep.ts')).benchSweep(o));

bench
  .command('wallet-sweep')
  .description('the wallet\'s latency against offered load: bench wallet --rate at each rate, to a JSON file and an SVG chart (p50, p90, p99)')
  .option('--rates <list>', 'comma-separated offered rates, transfers/s', '100,200,400,600,800,1000')
  .option('--clients <c>', 'the most transfers in flight', int('clients'), 128)
  .option('--warmup-s <s>', 'warm-up seconds per point', int('warmup-s'), 10)
  .option('--measure-s <s>', 'measurement seconds per point', int('measure-s'), 10)
  .addOption(new Option('--storage <kind>', 'replica storage').choices(['embedded', 'memory']).default('embedded'))
  .option('--base-port <port>', 'first replica port of every point', int('port'), 16000)
  .option('--out <file>', 'JSON file of all points', 'docs/figures/wallet-open-loop.json')
  .option('--svg <file>', 'the chart (default: --out with .svg)')
  .option('--no-plot', 'write the JSON only')
  .action(async (o) => (await import('./bench-wallet-sweep.ts')).benchWalletSweep(o));

bench
  .command('plot')
  .description("re-draw bench sweep's throughput-latency chart from its JSON file, without measuring")
  .option('--in <file>', 'JSON file written by bench sweep', 'docs/figures/throughput-latency.json')
  .option('--out <file>', 'SVG file', 'docs/figures/throughput-latency.svg')
  .option('--linear-y', 'linear latency axis (default: log)')
  .action(async (o) => (await import('./plot-throughput-latency.ts')).plotCommand(o));

try {
  await program.parseAsync(process.argv);
} catch (e) {
  console.error(`bulwark: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
