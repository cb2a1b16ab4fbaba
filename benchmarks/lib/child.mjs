// Runs a benchmark child process with the same node and collects the JSON line it prints last.
import { spawn } from 'node:child_process';

/**
 * Runs `node [nodeArgs] script args` and resolves with the parsed last stdout line. The child's
 * stderr passes through (progress, warnings); a non-zero exit rejects with its stderr tail.
 */
export function runJsonChild(script, args = [], { nodeArgs = [], env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: env ?? process.env,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`${script} ${args.join(' ')} exited with ${code}:\n${err.slice(-2000)}`));
        return;
      }
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`${script} ${args.join(' ')} printed no JSON result:\n${out.slice(-2000)}`));
      }
    });
  });
}

/** The value of `--name=value` in `process.argv`, or `fallback`. */
export function argValue(name, fallback) {
  const prefix = `--${name}=`;
  const arg = process.argv.find((a) => a.startsWith(prefix));
  return arg === undefined ? fallback : arg.slice(prefix.length);
}

/** Progress for the person running the benchmarks: on stderr, so stdout stays the report. */
export function progress(text) {
  process.stderr.write(`${text}\n`);
}
