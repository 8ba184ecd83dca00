import type { FastifyRequest } from 'fastify';
import { isTwofoldError } from '../../core/errors.js';
import { describeError } from '../errors.js';

/** A user-facing sentence for a refusal; unexpected errors are rethrown to the error handler. */
export function userMessage(error: unknown): string {
  if (isTwofoldError(error)) {
    const wait = error.retryAfterSeconds;
    if (!wait) return error.message;
    return wait < 120 ? `${error.message} (try again in ${Math.ceil(wait)} seconds)` : `${error.message} (try again in ${Math.ceil(wait / 60)} min)`;
  }
  throw error;
}

/** The status a page answers with for a refusal: the same one the JSON API would use. */
export function pageStatus(error: unknown): number {
  return describeError(error).status;
}

/** The region of the browser's first language ("en-GB" gives GB), to preselect a phone country. */
export function countryFromLanguage(request: FastifyRequest): string | undefined {
  const header = request.headers['accept-language'];
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(',')) {
    const region = /^[a-z]{2,3}-([a-z]{2})\b/i.exec(part.trim())?.[1];
    if (region) return region.toUpperCase();
  }
  return undefined;
}
