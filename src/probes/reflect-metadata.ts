import { reportInternalError } from '../report/errors.js';

/** The part of the `reflect-metadata` polyfill's API used here. */
interface MetadataReflect {
  getOwnMetadataKeys(target: object, member?: string | symbol): unknown[];
  getOwnMetadata(key: unknown, target: object, member?: string | symbol): unknown;
  defineMetadata(key: unknown, value: unknown, target: object, member?: string | symbol): void;
}

/**
 * Gives `wrapper` the `reflect-metadata` data of `original`: what decorators store with
 * `Reflect.defineMetadata(key, value, fn)` (NestJS's routes, guards, roles and status codes on a
 * method, its controller prefix on a class, the constructor's parameter types TypeScript emits for
 * injection), and with `(…, Class, 'member')` for its members, static or of its instances (the
 * parameters of a NestJS route: `@Body()`, `@Param()`). The polyfill keeps it in a map of its own,
 * which copying the function's own properties does not reach. Nothing without the polyfill.
 */
export function copyReflectMetadata(original: Function, wrapper: Function): void {
  const metadata = Reflect as unknown as Partial<MetadataReflect>;
  if (
    typeof metadata.getOwnMetadataKeys !== 'function' ||
    typeof metadata.getOwnMetadata !== 'function' ||
    typeof metadata.defineMetadata !== 'function'
  )
    return;
  const api = metadata as MetadataReflect;
  try {
    const prototype: unknown = Reflect.getOwnPropertyDescriptor(original, 'prototype')?.value;
    const members = new Set<string | symbol | undefined>([undefined, ...Reflect.ownKeys(original)]);
    if (prototype !== null && typeof prototype === 'object')
      for (const key of Reflect.ownKeys(prototype)) members.add(key);
    for (const member of members) {
      for (const key of api.getOwnMetadataKeys(original, member))
        api.defineMetadata(key, api.getOwnMetadata(key, original, member), wrapper, member);
    }
  } catch (error) {
    reportInternalError('copying reflect-metadata to a wrapper', error);
  }
}
