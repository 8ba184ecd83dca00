/**
 * Every delivery failure is a `DeliveryError`: a TwofoldError of kind `unavailable` whose code
 * says whether trying again may help.
 *
 * - `delivery_unavailable` (transient): timeout, connection refused, HTTP 429 or 5xx, SMTP 4xx.
 *   `sendWithRetry` retries these, within bounds.
 * - `delivery_failed` (permanent): the provider refused this message or this configuration
 *   (HTTP 4xx, SMTP 5xx, bad credentials, invalid number). Retrying would get the same answer.
 *
 * `details.transient` repeats the distinction for code that only sees the details (logs, audit).
 */
import { TwofoldError, invalidInput } from '../core/errors.js';
import type { ProviderKind } from './types.js';

export const DELIVERY_FAILED = 'delivery_failed';
export const DELIVERY_UNAVAILABLE = 'delivery_unavailable';

export interface DeliveryErrorDetails {
  provider: ProviderKind;
  transient: boolean;
  /** HTTP status or SMTP reply code, when the provider answered. */
  status?: number;
  /** The provider's own error code (Twilio `code`, Cdyne `MessageStatus`, nodemailer `code`). */
  providerCode?: string | number;
  /** Set by sendWithRetry: how many attempts were made before giving up. */
  attempts?: number;
  [key: string]: unknown;
}

export class DeliveryError extends TwofoldError {
  declare readonly details: DeliveryErrorDetails;

  constructor(message: string, details: DeliveryErrorDetails, cause?: unknown) {
    super('unavailable', details.transient ? DELIVERY_UNAVAILABLE : DELIVERY_FAILED, message, { details });
    this.name = 'DeliveryError';
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
  }

  get transient(): boolean {
    return this.details.transient;
  }

  get provider(): ProviderKind {
    return this.details.provider;
  }
}

type Extra = Omit<DeliveryErrorDetails, 'provider' | 'transient'>;

/** Permanent: do not retry. */
export function deliveryFailed(provider: ProviderKind, message: string, extra: Extra = {}, cause?: unknown): DeliveryError {
  return new DeliveryError(message, { ...extra, provider, transient: false }, cause);
}

/** Transient: a later attempt may succeed. */
export function deliveryUnavailable(provider: ProviderKind, message: string, extra: Extra = {}, cause?: unknown): DeliveryError {
  return new DeliveryError(message, { ...extra, provider, transient: true }, cause);
}

export function isDeliveryError(e: unknown): e is DeliveryError {
  return e instanceof DeliveryError;
}

/** A provider configuration that cannot work (bad URL, missing credential, ...). */
export function providerConfigInvalid(message: string): TwofoldError {
  return invalidInput('provider_config_invalid', message);
}
