/** The lowest Node.js major tlob runs on (the `engines` of package.json; a test keeps the two equal). */
export const LOWEST_NODE_MAJOR = 22;

/** The Node.js majors tlob is tested on, as its messages name them. */
export const SUPPORTED_NODE = 'Node.js 22, 24 and 26';

/**
 * Why the preload and the `tlob` commands refuse this Node.js, or undefined when they run on it.
 * Before Node 22 the library loads, but `module.registerHooks` is missing: probes on the modules a
 * program loads would measure nothing, and `tlob run` would blame the modules.
 */
export function unsupportedNode(version: string = process.versions.node): string | undefined {
  const major = Number(version.split('.')[0]);
  if (major >= LOWEST_NODE_MAJOR) return undefined;
  return `Node.js v${version} is not supported: tlob runs on ${SUPPORTED_NODE}`;
}
