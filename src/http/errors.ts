import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../core/errors.js';
import { isTwofoldError, statusOf } from '../core/errors.js';

/**
 * Fastify's own failures before a handler runs, mapped to our stable codes. The status is the
 * code's, from the catalogue (core/error-catalogue.ts), like every other error's.
 */
const FASTIFY_CODES: Record<string, { code: ErrorCode; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid_json', message: 'The request body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'invalid_json', message: 'The request body is empty; send a JSON object.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'body_too_large', message: 'The request body is too large.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_media_type', message: 'Send the body as application/json.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'invalid_request', message: 'The Content-Length header is wrong.' },
};

/** Any other 4xx a library raises: the codes that have that status, or else a plain bad request (400). */
const CODE_BY_LIBRARY_STATUS: Partial<Record<number, ErrorCode>> = { 404: 'not_found', 413: 'body_too_large', 415: 'unsupported_media_type' };

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

export function errorBody(code: ErrorCode, message: string, details?: Record<string, unknown>): ErrorBody {
  return { error: details ? { code, message, details } : { code, message } };
}

/** The status and JSON body for any error: one code, one status (the catalogue's). */
export function describeError(error: unknown): { status: number; body: ErrorBody; retryAfter?: number } {
  const answer = (code: ErrorCode, message: string, details?: Record<string, unknown>) => ({ status: statusOf(code), body: errorBody(code, message, details) });
  if (isTwofoldError(error)) {
    return {
      ...answer(error.code, error.message, error.details),
      ...(error.retryAfterSeconds !== undefined ? { retryAfter: error.retryAfterSeconds } : {}),
    };
  }
  const fastifyError = error as Partial<FastifyError> & { validation?: unknown };
  if (fastifyError.validation) {
    return answer('invalid_request', `The request is not valid: ${fastifyError.message ?? 'schema mismatch'}.`);
  }
  if (fastifyError.code && FASTIFY_CODES[fastifyError.code]) {
    const known = FASTIFY_CODES[fastifyError.code]!;
    return answer(known.code, known.message);
  }
  if (error instanceof SyntaxError || (fastifyError.statusCode === 400 && fastifyError.code?.startsWith('FST_ERR_CTP'))) {
    return answer('invalid_json', 'The request body is not valid JSON.');
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return answer(CODE_BY_LIBRARY_STATUS[fastifyError.statusCode] ?? 'invalid_request', fastifyError.message ?? 'The request is not valid.');
  }
  return answer('internal_error', 'Something went wrong on our side. It has been logged.');
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const { status, body, retryAfter } = describeError(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  if (retryAfter !== undefined) reply.header('Retry-After', String(retryAfter));
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}
