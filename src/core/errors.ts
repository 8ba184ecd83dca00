/**
 * Every failure the domain reports is a `TwofoldError`. Callers branch on the
 * stable `code` (and the coarse `kind`, which the HTTP layer maps to a status),
 * never on `message`, so messages can be reworded without breaking anything.
 *
 * Codes come from one catalogue (error-catalogue.ts): each has one kind, hence one status, and
 * the factories below accept only the codes of their own kind.
 */
import type { CodeOf, ErrorCode, ErrorKind } from './error-catalogue.js';

export type { CodeOf, ErrorCode, ErrorKind, ErrorStatus } from './error-catalogue.js';
export { ERROR_CATALOGUE, ERROR_CODES, STATUS_BY_KIND, codesWithStatus, isErrorCode, kindOf, statusOf, statusOfKind } from './error-catalogue.js';

export interface TwofoldErrorOptions {
  retryAfterSeconds?: number;
  details?: Record<string, unknown>;
}

/** `(kind, code, message, opts?)` where the code is one of that kind's in the catalogue. */
export type TwofoldErrorArgs = { [K in ErrorKind]: [kind: K, code: CodeOf<K>, message: string, opts?: TwofoldErrorOptions] }[ErrorKind];

export class TwofoldError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  // `declare` keeps class-field semantics from creating own properties set to
  // undefined, so absent options stay absent when logged or serialised.
  declare readonly retryAfterSeconds?: number;
  declare readonly details?: Record<string, unknown>;

  constructor(...[kind, code, message, opts]: TwofoldErrorArgs) {
    super(message);
    this.name = 'TwofoldError';
    this.kind = kind;
    this.code = code;
    if (opts?.retryAfterSeconds !== undefined) this.retryAfterSeconds = opts.retryAfterSeconds;
    if (opts?.details !== undefined) this.details = opts.details;
  }
}

export function invalidInput(code: CodeOf<'invalid_input'>, message: string): TwofoldError {
  return new TwofoldError('invalid_input', code, message);
}

export function unauthenticated(code: CodeOf<'unauthenticated'>, message: string): TwofoldError {
  return new TwofoldError('unauthenticated', code, message);
}

export function forbidden(code: CodeOf<'forbidden'>, message: string): TwofoldError {
  return new TwofoldError('forbidden', code, message);
}

export function notFound(code: CodeOf<'not_found'>, message: string): TwofoldError {
  return new TwofoldError('not_found', code, message);
}

export function conflict(code: CodeOf<'conflict'>, message: string): TwofoldError {
  return new TwofoldError('conflict', code, message);
}

export function rateLimited(code: CodeOf<'rate_limited'>, message: string, retryAfterSeconds: number): TwofoldError {
  // Retry-After is whole seconds; round up so a client never retries too early.
  return new TwofoldError('rate_limited', code, message, {
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)),
  });
}

export function gone(code: CodeOf<'gone'>, message: string): TwofoldError {
  return new TwofoldError('gone', code, message);
}

export function unavailable(code: CodeOf<'unavailable'>, message: string): TwofoldError {
  return new TwofoldError('unavailable', code, message);
}

export function isTwofoldError(e: unknown): e is TwofoldError {
  return e instanceof TwofoldError;
}
