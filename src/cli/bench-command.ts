import { benchCommand } from '../bench/command.js';
import type { Command } from './command.js';

/** `tlob bench`: the benchmark harness's command (also installed alone as `tlob-bench`). */
export const benchCommandEntry: Command = {
  summary: 'run bench files of tlob/bench: a table, --json, --compare with a baseline, CI gates',
  help: 'Usage: tlob bench [options] <files...> (tlob bench --help lists the options)',
  run: benchCommand, // it parses its own options, prints its own --help and usage errors
};
