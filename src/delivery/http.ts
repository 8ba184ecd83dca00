/**
 * The one place the HTTP providers (Twilio, Cdyne, webhook) talk to the network: a POST with a
 * hard timeout, no redirects, a bounded response body, only to addresses the network rule allows
 * (network.ts: checked in the socket's own DNS lookup), and every failure turned into a
 * DeliveryError with the transient/permanent distinction already made.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { DeliveryError } from './errors.js';
import { deliveryFailed, deliveryUnavailable, isDeliveryError, providerConfigInvalid } from './errors.js';
import { checkLiteralHost, checkedLookup, isAddressNotAllowed } from './network.js';
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
 * Turns an error thrown while talking to a provider into a DeliveryError. `signal` is the one the
 * request ran under: aborted by its timeout, or cancelled by the caller. An address the network
 * rule refuses is permanent: trying again meets the same rule.
 */
export function networkError(provider: ProviderKind, error: unknown, timeoutMs: number, signal?: AbortSignal): DeliveryError {
  if (isAddressNotAllowed(error)) return addressNotAllowed(provider, error);
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof Error && reason.name === 'TimeoutError') {
      return deliveryUnavailable(provider, `${label(provider)} did not answer within ${timeoutMs} ms`, { timeout: true }, error);
    }
    return deliveryUnavailable(provider, `${label(provider)}: sending was cancelled`, { aborted: true }, error);
  }
  const code = errorCode(error);
  return deliveryUnavailable(
    provider,
    `${label(provider)} could not be reached${code ? ` (${code})` : ''}`,
    code ? { providerCode: code } : {},
    error,
  );
}

/** The provider's host is, or resolves to, an address providers may not connect to. Which one stays in the server's own error (`cause`). */
export function addressNotAllowed(provider: ProviderKind, cause: unknown): DeliveryError {
  return deliveryFailed(
    provider,
    `${label(provider)} is at an address providers may not connect to (loopback, private or otherwise internal); the operator can allow those with TWOFOLD_DELIVERY_ALLOW_PRIVATE`,
    { reason: 'address_not_allowed' },
    cause,
  );
}

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return undefined;
}

export interface NetworkOptions {
  /** Connect to loopback, private and other internal addresses too (TWOFOLD_DELIVERY_ALLOW_PRIVATE). Off by default. */
  allowPrivateAddresses?: boolean | undefined;
}

export async function postHttp(
  provider: ProviderKind,
  url: string,
  init: { headers: Record<string, string>; body: string },
  timeoutMs: number,
  callerSignal?: AbortSignal,
  network: NetworkOptions = {},
): Promise<HttpReply> {
  const signal = withTimeout(timeoutMs, callerSignal);
  try {
    const reply = await post(new URL(url), init, signal, network.allowPrivateAddresses === true);
    if (reply.status >= 300 && reply.status < 400) {
      throw deliveryFailed(provider, `${label(provider)} answered with a redirect (HTTP ${reply.status}); check the URL`, { status: reply.status });
    }
    return reply;
  } catch (error) {
    if (isDeliveryError(error)) throw error;
    throw networkError(provider, error, timeoutMs, signal);
  }
}

/**
 * One POST with node:http(s), never following a redirect. The host is checked before the socket
 * opens (an IP literal) or inside its DNS lookup (a name), so the address connected to is the
 * address checked.
 */
export function post(url: URL, init: { headers: Record<string, string>; body: string | Buffer }, signal: AbortSignal, allowPrivate: boolean): Promise<HttpReply> {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  checkLiteralHost(hostname, allowPrivate);
  const body = typeof init.body === 'string' ? Buffer.from(init.body, 'utf8') : init.body;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<HttpReply>((resolve, reject) => {
    const request = send(
      {
        protocol: url.protocol,
        hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { ...init.headers, 'content-length': String(body.byteLength) },
        agent: false,
        lookup: checkedLookup(allowPrivate),
        signal,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let settled = false;
        const finish = () => {
          if (settled) return;
          settled = true;
          resolve({ status: response.statusCode ?? 0, headers: toHeaders(response.headers), text: Buffer.concat(chunks).toString('utf8') });
        };
        response.on('data', (chunk: Buffer) => {
          if (settled) return;
          size += chunk.byteLength;
          if (size > MAX_RESPONSE_BYTES) {
            finish();
            response.destroy();
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', finish);
        response.on('error', (error) => {
          if (settled) return;
          settled = true;
          reject(error);
        });
        response.on('close', () => {
          if (settled) return;
          settled = true;
          reject(Object.assign(new Error('The connection closed before the answer was complete'), { code: 'ECONNRESET' }));
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
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
