/**
 * The one place the HTTP providers (Twilio, Cdyne, webhook) talk to the network: a POST with a
 * hard timeout, no redirects, a bounded response body, and every failure turned into a
 * DeliveryError with the transient/permanent distinction already made.
 */
import { isIP } from 'node:net';
import type { DeliveryError } from './errors.js';
import { deliveryFailed, deliveryUnavailable, isDeliveryError, providerConfigInvalid } from './errors.js';
import type { ProviderKind } from './types.js';

export const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface HttpReply {
  status: number;
  headers: Headers;
  text: string;
}

/** True for localhost, 127.0.0.0/8 and ::1: the only hosts plain http is allowed to. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * Parses an endpoint URL from configuration: https, or http to a loopback host (for tests and
 * local relays). No credentials, query or fragment. Returns the URL without a trailing slash.
 */
export function endpointUrl(value: string, field: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw providerConfigInvalid(`${field} must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw providerConfigInvalid(`${field} must use https (plain http is allowed only to localhost)`);
  }
  if (url.username || url.password) throw providerConfigInvalid(`${field} must not contain credentials`);
  if (url.search || url.hash) throw providerConfigInvalid(`${field} must not contain a query or fragment`);
  return url.href.replace(/\/+$/, '');
}

export function timeoutMsFrom(value: number | undefined, field = 'timeoutMs'): number {
  if (value === undefined) return DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(value) || value < 1 || value > 120_000) {
    throw providerConfigInvalid(`${field} must be a whole number of milliseconds between 1 and 120000`);
  }
  return value;
}

/** The caller's signal (if any) combined with a timeout of our own. */
export function withTimeout(timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/**
 * Turns an error thrown while talking to a provider into a transient DeliveryError. `signal` is
 * the one the request ran under: aborted by its timeout, or cancelled by the caller.
 */
export function networkError(provider: ProviderKind, error: unknown, timeoutMs: number, signal?: AbortSignal): DeliveryError {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof Error && reason.name === 'TimeoutError') {
      return deliveryUnavailable(provider, `${label(provider)} did not answer within ${timeoutMs} ms`, { timeout: true }, error);
    }
    return deliveryUnavailable(provider, `${label(provider)}: sending was cancelled`, { aborted: true }, error);
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return deliveryUnavailable(
    provider,
    `${label(provider)} could not be reached${code ? ` (${code})` : ''}`,
    code ? { providerCode: code } : {},
    error,
  );
}

export async function postHttp(
  provider: ProviderKind,
  url: string,
  init: { headers: Record<string, string>; body: string },
  timeoutMs: number,
  callerSignal?: AbortSignal,
): Promise<HttpReply> {
  const signal = withTimeout(timeoutMs, callerSignal);
  try {
    const response = await fetch(url, { method: 'POST', headers: init.headers, body: init.body, redirect: 'manual', signal });
    const text = await readLimited(response);
    if (response.status >= 300 && response.status < 400) {
      throw deliveryFailed(provider, `${label(provider)} answered with a redirect (HTTP ${response.status}); check the URL`, { status: response.status });
    }
    return { status: response.status, headers: response.headers, text };
  } catch (error) {
    if (isDeliveryError(error)) throw error;
    throw networkError(provider, error, timeoutMs, signal);
  }
}

/** 429 and 5xx may pass on a later attempt; every other 4xx is this request's fault. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function label(provider: ProviderKind): string {
  switch (provider) {
    case 'smtp':
      return 'The SMTP server';
    case 'twilio':
      return 'Twilio';
    case 'cdyne':
      return 'Cdyne';
    case 'webhook':
      return 'The webhook';
    case 'console':
      return 'The console provider';
    case 'file':
      return 'The file provider';
  }
}

async function readLimited(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      break;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
