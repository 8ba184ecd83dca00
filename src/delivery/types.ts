/**
 * The delivery layer's vocabulary: one message, one provider that sends it. Providers know
 * nothing of users, codes or rate limits; the services decide what to send and to whom.
 */

export type Channel = 'email' | 'sms';

export const CHANNELS: readonly Channel[] = ['email', 'sms'];

export type ProviderKind = 'smtp' | 'twilio' | 'cdyne' | 'webhook' | 'console' | 'file';

export const PROVIDER_KINDS: readonly ProviderKind[] = ['smtp', 'twilio', 'cdyne', 'webhook', 'console', 'file'];

export interface OutgoingMessage {
  channel: Channel;
  /** An email address for `email`, an E.164 number (`+14155552671`) for `sms`. */
  to: string;
  /** Email only; SMS providers ignore it. */
  subject?: string;
  text: string;
  /** Email only; sent as the HTML alternative of `text`. */
  html?: string;
}

export interface SendResult {
  /** The provider's own id for the message (Twilio `sid`, SMTP Message-ID, ...), for logs and audit. */
  providerMessageId?: string;
}

export interface DeliveryProvider {
  readonly kind: ProviderKind;
  /** The channels this provider can carry; sending on another one fails with `delivery_failed`. */
  readonly channels: readonly Channel[];
  /**
   * Sends one message. Resolves once the provider accepted it; rejects only with a
   * `DeliveryError` (see errors.ts). Aborting `signal` abandons the attempt (the provider may
   * still have accepted the message).
   */
  send(message: OutgoingMessage, signal?: AbortSignal): Promise<SendResult>;
}

/** Structured log line used by the console provider (and available to others). */
export type DeliveryLog = (message: string, fields: Record<string, unknown>) => void;

/** What a provider needs from the running server rather than from its stored configuration. */
export interface ProviderEnvironment {
  /** Milliseconds since the epoch; defaults to Date.now. */
  now?: () => number;
  /** Defaults to one JSON line on stdout per call. */
  log?: DeliveryLog;
  /** The server's data directory; the file provider writes below it. */
  dataDir?: string;
  /**
   * Let SMTP, Twilio, Cdyne and webhook providers connect to loopback, private and other
   * internal addresses (TWOFOLD_DELIVERY_ALLOW_PRIVATE). Off by default: public addresses only.
   */
  allowPrivateAddresses?: boolean | undefined;
}
