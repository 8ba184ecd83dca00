/**
 * Bounded retries around one provider. Only transient failures (`delivery_unavailable`) are
 * tried again, after an exponentially growing, jittered pause; a permanent failure
 * (`delivery_failed`) is returned at once. Each attempt has its own deadline, enforced here even
 * for a provider that ignores its AbortSignal, so the worst case is bounded by
 * attempts × timeoutMs + the pauses.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { DeliveryError, deliveryFailed, deliveryUnavailable, isDeliveryError } from './errors.js';
import { label } from './http.js';
import type { DeliveryProvider, OutgoingMessage, SendResult } from './types.js';

export interface RetryOptions {
  /** Total attempts including the first; 1–10, default 3. */
  attempts?: number;
  /** Pause before the second attempt; doubles each time. Default 200 ms. */
  baseDelayMs?: number;
  /** Upper bound of one pause. Default 5 s. */
  maxDelayMs?: number;
  /** Deadline of each attempt. Default 10 s. */
  timeoutMs?: number;
  /** Cancels the whole operation (no further attempts). */
  signal?: AbortSignal;
  /** Injected in tests; defaults to a real, abortable timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Source of jitter in [0, 1); default Math.random. */
  random?: () => number;
  /** Called before each pause, e.g. to log the failure that caused it. */
  onRetry?: (event: { attempt: number; error: DeliveryError; delayMs: number }) => void;
}

export interface RetryResult extends SendResult {
  /** How many attempts it took. */
  attempts: number;
}

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> => delay(ms, undefined, signal ? { signal } : {});

/** Pause before attempt `attempt + 1`: half fixed, half random ("equal jitter"). */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export async function sendWithRetry(provider: DeliveryProvider, message: OutgoingMessage, options: RetryOptions = {}): Promise<RetryResult> {
  const attempts = options.attempts ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 10) throw new RangeError('attempts must be a whole number from 1 to 10');
  if (!(timeoutMs > 0) || !(baseDelayMs >= 0) || !(maxDelayMs >= 0)) throw new RangeError('timeoutMs must be positive and delays not negative');

  for (let attempt = 1; ; attempt++) {
    let error: DeliveryError;
    try {
      const result = await attemptOnce(provider, message, timeoutMs, options.signal);
      return { ...result, attempts: attempt };
    } catch (caught) {
      error = isDeliveryError(caught)
        ? caught
        : deliveryFailed(provider.kind, `Sending failed unexpectedly: ${caught instanceof Error ? caught.message : String(caught)}`, { reason: 'unexpected' }, caught);
    }
    const cancelled = options.signal?.aborted === true;
    if (!error.transient || cancelled || attempt >= attempts) throw withAttempts(error, attempt);
    const delayMs = backoffDelay(attempt, baseDelayMs, maxDelayMs, random);
    options.onRetry?.({ attempt, error, delayMs });
    try {
      await sleep(delayMs, options.signal);
    } catch {
      throw withAttempts(error, attempt);
    }
  }
}

function attemptOnce(provider: DeliveryProvider, message: OutgoingMessage, timeoutMs: number, outer?: AbortSignal): Promise<SendResult> {
  if (outer?.aborted) return Promise.reject(cancelledError(provider));
  const controller = new AbortController();
  const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
  return new Promise<SendResult>((resolve, reject) => {
    const onOuterAbort = () => finish(() => reject(cancelledError(provider)));
    const timer = setTimeout(() => {
      finish(() => reject(deliveryUnavailable(provider.kind, `${label(provider.kind)} did not answer within ${timeoutMs} ms`, { timeout: true })));
    }, timeoutMs);
    let done = false;
    function finish(settle: () => void): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
      controller.abort(new DOMException('The delivery attempt is over', 'TimeoutError'));
      settle();
    }
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    let sending: Promise<SendResult>;
    try {
      sending = provider.send(message, signal);
    } catch (error) {
      sending = Promise.reject(error);
    }
    sending.then(
      (result) => finish(() => resolve(result)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

function cancelledError(provider: DeliveryProvider): DeliveryError {
  return deliveryUnavailable(provider.kind, `${label(provider.kind)}: sending was cancelled`, { aborted: true });
}

function withAttempts(error: DeliveryError, attempts: number): DeliveryError {
  return new DeliveryError(error.message, { ...error.details, attempts }, error.cause ?? error);
}
