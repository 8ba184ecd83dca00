/**
 * A generic HTTPS webhook: the message as JSON, POSTed to the configured URL and signed so the
 * receiver can check it came from this server and was not replayed.
 *
 *   POST <url>
 *   Content-Type: application/json
 *   X-Twofold-Delivery-Id: <uuid>                (also `id` in the body; use it to drop duplicates)
 *   X-Twofold-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *   {"id":"…","channel":"sms","to":"+14155552671","subject":null,"text":"…","sentAt":"2025-…Z"}
 *
 * A receiver recomputes the HMAC over the raw bytes it received (before any JSON parsing), compares
 * in constant time, and rejects timestamps more than a few minutes away: `verifyWebhookSignature`.
 * Any 2xx is success; 408, 429 and 5xx are retried; other answers (including redirects) are not.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { deliveryFailed, deliveryUnavailable, providerConfigInvalid } from './errors.js';
import { endpointUrl, isTransientStatus, postHttp, timeoutMsFrom } from './http.js';
import type { NetworkOptions } from './http.js';
import { checkMessage } from './message.js';
import type { Channel, DeliveryProvider, OutgoingMessage, SendResult } from './types.js';

export const SIGNATURE_HEADER = 'X-Twofold-Signature';
export const DELIVERY_ID_HEADER = 'X-Twofold-Delivery-Id';
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

export interface WebhookProviderConfig {
  kind: 'webhook';
  /** https://…, or http:// to a loopback address only (reachable only with TWOFOLD_DELIVERY_ALLOW_PRIVATE). */
  url: string;
  /** Shared with the receiver; at least 16 characters. */
  secret: string;
  /** Which channels this webhook accepts; default both. */
  channels?: Channel[];
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

export interface WebhookPayload {
  id: string;
  channel: Channel;
  to: string;
  subject: string | null;
  text: string;
  sentAt: string;
}

export function validateWebhookConfig(config: WebhookProviderConfig): WebhookProviderConfig & { timeoutMs: number; channels: Channel[] } {
  const url = endpointUrl(config.url, 'url');
  if (typeof config.secret !== 'string' || config.secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    throw providerConfigInvalid(`secret must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters`);
  }
  const channels = config.channels ?? ['email', 'sms'];
  if (channels.length === 0 || channels.some((c) => c !== 'email' && c !== 'sms')) {
    throw providerConfigInvalid("channels must list 'email' and/or 'sms'");
  }
  return { ...config, url, channels: [...new Set(channels)], timeoutMs: timeoutMsFrom(config.timeoutMs) };
}

export function signWebhookBody(secret: string, body: string, timestampSeconds: number): string {
  const t = Math.floor(timestampSeconds);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
  return `t=${t},v1=${v1}`;
}

/**
 * True when `header` carries a v1 signature of `body` made with `secret`, timestamped within
 * `toleranceSeconds` of `nowSeconds` (either way). Several v1 entries are allowed (a sender
 * rotating secrets); one match suffices.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string | Buffer,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  if (!header || !secret) return false;
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const expected = createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(raw).digest();
  let match = false;
  for (const candidate of signatures) match = timingSafeEqual(candidate, expected) || match;
  return match;
}

export function createWebhookProvider(input: WebhookProviderConfig, now: () => number = Date.now, network: NetworkOptions = {}): DeliveryProvider {
  const config = validateWebhookConfig(input);

  const provider: DeliveryProvider = {
    kind: 'webhook',
    channels: config.channels,
    async send(message: OutgoingMessage, signal?: AbortSignal): Promise<SendResult> {
      checkMessage(provider, message);
      const sentAtMs = now();
      const payload: WebhookPayload = {
        id: randomUUID(),
        channel: message.channel,
        to: message.to,
        subject: message.subject ?? null,
        text: message.text,
        sentAt: new Date(sentAtMs).toISOString(),
      };
      const body = JSON.stringify(payload);
      const reply = await postHttp(
        'webhook',
        config.url,
        {
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Twofold-Webhook/1',
            [SIGNATURE_HEADER.toLowerCase()]: signWebhookBody(config.secret, body, sentAtMs / 1000),
            [DELIVERY_ID_HEADER.toLowerCase()]: payload.id,
          },
          body,
        },
        config.timeoutMs,
        signal,
        network,
      );
      if (reply.status >= 200 && reply.status < 300) return { providerMessageId: payload.id };
      const text = `The webhook answered HTTP ${reply.status}`;
      throw isTransientStatus(reply.status)
        ? deliveryUnavailable('webhook', text, { status: reply.status })
        : deliveryFailed('webhook', text, { status: reply.status });
    },
  };
  return provider;
}
