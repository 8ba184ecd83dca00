import { hash, verify } from '@node-rs/argon2';

/**
 * argon2id at OWASP's first recommended profile (19 MiB, t=2, p=1). @node-rs/argon2 runs
 * on the libuv thread pool, so a hash never blocks the event loop.
 */
/** Algorithm.Argon2id: the package exports it as an ambient const enum, which isolated modules cannot read. */
const ARGON2ID = 2;
const ARGON2_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  try {
    return await verify(storedHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies against a throwaway hash, so that an unknown email costs the same argon2 work
 * as a wrong password and timing does not reveal which accounts exist.
 */
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword('twofold-timing-equaliser');
  await verifyPassword(await dummyHash, password);
}
