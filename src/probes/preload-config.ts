import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { checkTlobReactor, type TlobReactor } from '../monitors/tlob/tlob-reactor.js';
import { describeValue, TlobError, TlobTypeError } from '../report/errors.js';

/**
 * Environment variables by name, as `process.env` holds them (written out: the public types need no
 * Node types).
 */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * `env` as the functions that read the environment take it (`process.env` when not given): an
 * object, else `ERR_TLOB_INVALID_ARG` naming `caller` (a string such as `'TLOB_OTEL=1'` would
 * otherwise read as an environment with nothing set, and do nothing without a word).
 */
export function checkEnvironment(env: unknown, caller: string): Environment {
  if (env === null || typeof env !== 'object')
    throw new TlobTypeError(
      'ERR_TLOB_INVALID_ARG',
      `${caller}: expected \`env\` to be an object of environment variables (process.env when not given), got ${describeValue(env)}`,
    );
  return env as Environment;
}

const ON = /^(1|true|yes|on)$/i;
const OFF = /^(0|false|no|off)$/i;

/**
 * A switch of the environment: `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off` (any case);
 * unset or empty is `fallback`. Anything else throws `ERR_TLOB_INVALID_ARG` naming the variable.
 */
export function environmentSwitch(
  env: NodeJS.ProcessEnv,
  variable: string,
  fallback: boolean,
  caller: string,
): boolean {
  const value = env[variable];
  if (value === undefined || value === '') return fallback;
  if (ON.test(value)) return true;
  if (OFF.test(value)) return false;
  throw new TlobTypeError(
    'ERR_TLOB_INVALID_ARG',
    `${caller}: expected \`${variable}\` to be 1, true, yes, on, 0, false, no or off, got ${describeValue(value)}`,
  );
}

/**
 * The reactor `TLOB_REACTOR` names, checked (`ERR_TLOB_INVALID_REACTOR` naming `caller`), or
 * undefined when it is unset or empty. The preload applies it after the config file's.
 */
export function environmentReactor(env: NodeJS.ProcessEnv, caller: string): TlobReactor | undefined {
  const reactor = env.TLOB_REACTOR;
  if (reactor === undefined || reactor === '') return undefined;
  return checkTlobReactor(reactor, caller, '`TLOB_REACTOR`');
}

/** The zero-code configuration: `TLOB_CONFIG`, or `tlob.config.json` in the working directory. */
interface PreloadConfig {
  /** Probe specs: one string (`;` or newline separated) or an array of them. */
  probes?: string | string[];
  /**
   * What happens on a violation.
   * @default 'log'
   */
  reactor?: TlobReactor;
  /**
   * Capacity of the violation ring.
   * @default 1024
   */
  ringSize?: number;
}

/** Probe specs as the environment gives them, and where from (the name their errors give). */
export interface SpecSource {
  /** Specs, `;` or newline separated. */
  readonly text: string;
  /** `TLOB_PROBES`, or the config file's path relative to the working directory. */
  readonly from: string;
}

/** What the environment asks for: config file values, then `TLOB_PROBES` specs. */
interface PreloadSettings {
  readonly specs: SpecSource[];
  readonly reactor: TlobReactor | undefined;
  readonly ringSize: number | undefined;
  /** The config file read, if any. */
  readonly file: string | undefined;
}

/**
 * Reads the preload settings from `env` and `cwd`: the config file named by `TLOB_CONFIG` (an error
 * if missing), else `./tlob.config.json` if present, then the specs in `TLOB_PROBES`.
 * Throws `ERR_TLOB_CONFIG` for an unreadable or malformed file.
 */
export function readPreloadSettings(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): PreloadSettings {
  const named = env.TLOB_CONFIG;
  const file = named !== undefined && named !== '' ? resolve(cwd, named) : resolve(cwd, 'tlob.config.json');
  let config: PreloadConfig = {};
  const present = existsSync(file);
  if (named !== undefined && named !== '' && !present) {
    throw new TlobError('ERR_TLOB_CONFIG', `tlob: TLOB_CONFIG names ${file}, which does not exist`);
  }
  if (present) config = parseConfig(file);
  const specs: SpecSource[] = [];
  const fromFile = relative(cwd, file);
  for (const text of typeof config.probes === 'string' ? [config.probes] : (config.probes ?? [])) {
    specs.push({ text, from: fromFile });
  }
  const fromEnv = env.TLOB_PROBES;
  if (fromEnv !== undefined && fromEnv.trim() !== '') specs.push({ text: fromEnv, from: 'TLOB_PROBES' });
  return { specs, reactor: config.reactor, ringSize: config.ringSize, file: present ? file : undefined };
}

function parseConfig(file: string): PreloadConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new TlobError('ERR_TLOB_CONFIG', `tlob: cannot read ${file}: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TlobError(
      'ERR_TLOB_CONFIG',
      `tlob: ${file}: expected an object like { "probes": "p …" }, got ${describeValue(parsed)}`,
    );
  }
  const config = parsed as Record<string, unknown>;
  for (const key of Object.keys(config)) {
    if (key !== 'probes' && key !== 'reactor' && key !== 'ringSize' && key !== '$schema') {
      throw new TlobError(
        'ERR_TLOB_CONFIG',
        `tlob: ${file}: unknown key "${key}" (expected probes, reactor, ringSize)`,
      );
    }
  }
  const { probes, reactor, ringSize } = config;
  const probesOk =
    probes === undefined ||
    typeof probes === 'string' ||
    (Array.isArray(probes) && probes.every((p) => typeof p === 'string'));
  if (!probesOk) {
    throw new TlobError(
      'ERR_TLOB_CONFIG',
      `tlob: ${file}: expected "probes" to be a string or an array of strings, got ${describeValue(probes)}`,
    );
  }
  if (reactor !== undefined && typeof reactor !== 'string') {
    throw new TlobError(
      'ERR_TLOB_CONFIG',
      `tlob: ${file}: expected "reactor" to be "log", "nop", "abort" or "throw", got ${describeValue(reactor)}`,
    );
  }
  if (reactor !== undefined) checkTlobReactor(reactor, `tlob: ${file}: reactor`);
  if (
    ringSize !== undefined &&
    (typeof ringSize !== 'number' || !Number.isInteger(ringSize) || ringSize < 1)
  ) {
    throw new TlobError(
      'ERR_TLOB_CONFIG',
      `tlob: ${file}: expected "ringSize" to be a positive integer, got ${describeValue(ringSize)}`,
    );
  }
  return config as PreloadConfig;
}
