/**
 * One benchmark point as a child process (`node --import tsx src/cli/main.ts bench … --json`),
 * for the sweeps (`bench sweep`, `bench wallet-sweep`).
 *
 * Why a child per point rather than calling the benchmark in this process: a benchmark's
 * clients run in the calling process, so in-process points would share one heap, JIT and
 * event loop (and any handle a point leaks) across the whole sweep. A child gives exactly
 * what the command gives by hand, and a point that hangs is killed on a deadline without
 * losing the others. The cost (≈ 1 s of tsx start per point) falls outside the measured window.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const mainTs = fileURLToPath(new URL('./main.ts', import.meta.url));
/** The repository root: `--import tsx` resolves tsx from the child's working folder. */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Output kept from a child for error messages (bytes of text). */
const CHILD_OUTPUT_MAX = 64 * 1024;

/**
 * Runs `main.ts` with `args` and parses the last line of its stdout as JSON.
 * @param name the command, for error messages (`bench micro`)
 * @param isResult checks the parsed JSON has the fields the caller reads
 * @throws Error with the child's exit status and its error line (or the end of its stderr)
 *   if it fails, prints no such JSON, or outlives `deadlineMs` (it is then killed; a local
 *   cluster's replicas exit with it).
 */
export function runBenchChild<T>(args: readonly string[], deadlineMs: number, name: string, isResult: (r: T) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', mainTs, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const keep = (s: string, chunk: Buffer) => (s + chunk.toString('utf8')).slice(-CHILD_OUTPUT_MAX);
    child.stdout.on('data', (b: Buffer) => (stdout = keep(stdout, b)));
    child.stderr.on('data', (b: Buffer) => (stderr = keep(stderr, b)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, deadlineMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      // The child's own error line (commander's `error:`, main's `bulwark:`) says more than its help text.
      const lines = stderr.trim().split('\n');
      const tail = (lines.find((l) => /^(error|bulwark):/.test(l)) ?? lines.slice(-5).join(' | ')).trim();
      if (timedOut) return reject(new Error(`${name} did not finish within ${(deadlineMs / 1000).toFixed(1)} s${tail ? `: ${tail}` : ''}`));
      if (code !== 0) return reject(new Error(`${name} exited with ${code ?? signal}${tail ? `: ${tail}` : ''}`));
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(line) as T;
        if (typeof r !== 'object' || r === null || !isResult(r)) throw new Error('missing the fields of a result');
        resolve(r);
      } catch (e) {
        reject(new Error(`${name} printed no result JSON (${e instanceof Error ? e.message : String(e)}): ${line.slice(0, 200)}`));
      }
    });
  });
}
