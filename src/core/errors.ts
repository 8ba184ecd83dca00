/**
 * Every failure the domain reports is a `TwofoldError`. Callers branch on the
 * stable `code` (and the coarse `kind`, which the HTTP layer maps to a status),
 * never on `message`, so messages can be reworded without breaking anything.
 */

export type ErrorKind =
  | 'invalid_input'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'gone'
  | 'unavailable';

export interface TwofoldErrorOptions {
  retryAfterSeconds?: number;
  details?: Record<string, unknown>;
}

export class TwofoldError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  // `declare` keeps class-field semantics from creating own properties set to
  // undefined, so absent options stay absent when logged or serialised.
  declare readonly retryAfterSeconds?: number;
  declare readonly details?: Record<string, unknown>;

  constructor(kind: ErrorKind, code: string, message: string, opts?: TwofoldErrorOptions) {
    super(message);
    this.name = 'TwofoldError';
    this.kind = kind;
    this.code = code;
    if (opts?.retryAfterSeconds !== undefined) this.retryAfterSeconds = opts.retryAfterSeconds;
    if (opts?.details !== undefined) this.details = opts.details;
  }
}

export function invalidInput(code: string, message: string): TwofoldError {
  return new TwofoldError('invalid_input', code, message);
}

export function unauthenticated(code: string, message: string): TwofoldError {
  return new TwofoldError('unauthenticated', code, message);
}

export function forbidden(code: string, message: string): TwofoldError {
  return new TwofoldError('forbidden', code, message);
}

export function notFound(code: string, message: string): TwofoldError {
  return new TwofoldError('not_found', code, message);
}

export function conflict(code: string, message: string): TwofoldError {
  return new TwofoldError('conflict', code, message);
}

export function rateLimited(code: string, message: string, retryAfterSeconds: number): TwofoldError {
  // Retry-After is whole seconds; round up so a client never retries too early.
  return new TwofoldError('rate_limited', code, message, {
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)),
  });
}

export function gone(code: string, message: string): TwofoldError {
  return new TwofoldError('gone', code, message);
}

export function unavailable(code: string, message: string): TwofoldError {
  return new TwofoldError('unavailable', code, message);
}

export function isTwofoldError(e: unknown): e is TwofoldError {
  return e instanceof TwofoldError;
}
