/**
 * A child process for the embedded backend's kill -9 test. Usage:
 *   node --import tsx test/helpers/kv-crash-child.ts <db path> <always|batch>
 * Writes batches forever, resuming after the stored `head`. Batch i puts
 * `b/<i>/<j>` for j < PUTS_PER_BATCH and `head` = i, and deletes batch i - WINDOW, so
 * a torn batch would show up as a partial batch, a stale head, or a leftover old batch.
 * After each write resolves it prints `durable <i>`.
 */
import { pathToFileURL } from 'node:url';
import { openEmbeddedKv } from '../../src/host/storage/sqlite-kv.ts';

export const PUTS_PER_BATCH = 10;
export const WINDOW = 50;

export const batchPrefix = (i: number): string => `b/${String(i).padStart(10, '0')}/`;
export const crashValue = (i: number, j: number): string => `${i}:${j}:`.padEnd(200, '#');

async function main(): Promise<void> {
  const [path, fsync] = process.argv.slice(2);
  if (!path || (fsync !== 'always' && fsync !== 'batch')) throw new Error('usage: kv-crash-child.ts <db path> <always|batch>');
  const kv = await openEmbeddedKv(path, { fsync });
  const head = await kv.get('head');
  let i = head === undefined ? 0 : Number(Buffer.from(head).toString()) + 1;
  process.stdout.write(`ready ${i}\n`);
  for (;;) {
    const puts: [string, Uint8Array][] = [['head', Buffer.from(String(i))]];
    for (let j = 0; j < PUTS_PER_BATCH; j++) puts.push([`${batchPrefix(i)}${j}`, Buffer.from(crashValue(i, j))]);
    const old = i - WINDOW;
    await kv.write({ puts, deleteRanges: old >= 0 ? [[batchPrefix(old), `${batchPrefix(old)}\x7f`]] : [] });
    process.stdout.write(`durable ${i}\n`);
    i++;
    // Yield now and then so stdout drains while the parent decides when to kill.
    if (i % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
