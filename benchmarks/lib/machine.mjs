// One line naming the machine, the Node version and the tlob commit a benchmark ran on.
import { execFileSync } from 'node:child_process';
import os from 'node:os';

function commit() {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], {
      encoding: 'utf8',
      stdio: 'pipe',
    }).trim();
  } catch {
    return 'unknown commit';
  }
}

/** `Node v24.21.0 · AMD EPYC · 2 cores · linux x64 · 2026-11-26 · tlob 30068e6-dirty` */
export function machineLine() {
  const cpus = os.cpus();
  const model = (cpus[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
  const date = new Date().toISOString().slice(0, 10);
  return `Node ${process.version} · ${model} · ${cpus.length} cores · ${os.platform()} ${os.arch()} · ${date} · tlob ${commit()}`;
}
