import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { BoundedQueue } from '../core/bounded-queue.js';
import { TwofoldError } from '../core/errors.js';

/**
 * argon2id at OWASP's first recommended profile (19 MiB, t=2, p=1). @node-rs/argon2 runs
 * on the libuv thread pool, so a hash never blocks the event loop.
 */
/** Algorithm.Argon2id: the package exports it as an ambient const enum, which isolated modules cannot read. */
const ARGON2ID = 2;
const ARGON2_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

/**
 * Each hash holds 19 MiB while it runs. More hashes at once than cores only queue on the CPU
 * while each holds its memory (libuv's 4 threads on a 2-core machine: 4 × 19 MiB live for the
 * speed of 2), so at most one per core runs and the rest wait here, holding nothing but their
 * request. The line is bounded too: past it a request is answered 503 `server_busy` at once,
 * rather than waiting longer than any client would.
 */
const WAITING_PER_CORE = 32;
let hashing = new BoundedQueue(availableParallelism(), availableParallelism() * WAITING_PER_CORE);

/** Tests: other limits for a while; returns the function that puts the default back. */
export function setPasswordHashLimits(concurrency: number, maxWaiting: number): () => void {
  const previous = hashing;
  hashing = new BoundedQueue(concurrency, maxWaiting);
  return () => {
    hashing = previous;
  };
}

async function throttled<T>(work: () => Promise<T>): Promise<T> {
  const done = await hashing.run(work);
  if (!done) {
    throw new TwofoldError('unavailable', 'server_busy', 'The server is busy checking other passwords. Try again in a moment.', { retryAfterSeconds: 1 });
  }
  return done.value;
}

/** Rejects with `server_busy` (503) when too many hashes are already waiting. */
export function hashPassword(password: string): Promise<string> {
  return throttled(() => hash(password, ARGON2_OPTIONS));
}

/** False for a wrong password or an unreadable hash; rejects with `server_busy` (503) when too many hashes are already waiting. */
export function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  return throttled(async () => {
    try {
      return await verify(storedHash, password);
    } catch {
      return false;
    }
  });
}

let dummyHash: string | undefined;

/**
 * Verifies against a throwaway hash, so that an unknown email costs the same argon2 work
 * as a wrong password and timing does not reveal which accounts exist.
 */
export async function burnPasswordCheck(password: string): Promise<void> {
  // Kept once made; a refusal (server_busy) is not kept, so the next call tries again.
  dummyHash ??= await hashPassword('twofold-timing-equaliser');
  await verifyPassword(dummyHash, password);
}
