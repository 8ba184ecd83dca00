import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS package loaded where it is first needed rather than at start: for libraries that
 * hold memory a server may never need (a database driver it does not use, a mailer, push, phone
 * metadata). Node keeps the module once loaded, so later calls only look it up.
 */
export function loadOnFirstUse<T>(specifier: string): T {
  return require(specifier) as T;
}
