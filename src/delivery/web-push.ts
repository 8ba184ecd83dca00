/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and message encryption (RFC 8291, aes128gcm): the
 * `web-push` package encrypts the payload and signs the VAPID header; the POST itself goes through
 * this project's one network path (http.ts), so a push endpoint is held to the same address rule
 * as every provider (no internal addresses unless TWOFOLD_DELIVERY_ALLOW_PRIVATE) and to a timeout.
 */
import type WebPush from 'web-push';
import { loadOnFirstUse } from '../core/load-on-first-use.js';
import { post, withTimeout } from './http.js';
import { isAddressNotAllowed } from './network.js';

export interface PushSubscriptionKeys {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface VapidKeyPair {
  publicKey: string;
  privateKey: string;
}

/** `web-push` (and its JWT and ASN.1 libraries), loaded at the first push rather than at start. */
function webPush(): typeof WebPush {
  return loadOnFirstUse<typeof WebPush>('web-push');
}

export type PushOutcome = { ok: true; status: number } | { ok: false; reason: 'gone' | 'refused' | 'unreachable' | 'address_not_allowed'; status?: number };

/** A fresh VAPID key pair (P-256, base64url), made once per installation. */
export function generateVapidKeys(): VapidKeyPair {
  return webPush().generateVAPIDKeys();
}

/**
 * Whether `endpoint` may be stored as a push endpoint: https, or plain http only when internal
 * addresses are allowed (a local push service in tests); no credentials.
 */
export function pushEndpointAllowed(endpoint: string, allowPrivate: boolean): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  return url.protocol === 'https:' || (allowPrivate && url.protocol === 'http:');
}

/** Sends one encrypted message; never throws: a push that cannot go out is an outcome, not an error. */
export async function sendWebPush(
  subscription: PushSubscriptionKeys,
  payload: string,
  options: { vapid: VapidKeyPair; subject: string; ttlSeconds: number; timeoutMs: number; allowPrivate: boolean },
): Promise<PushOutcome> {
  if (!pushEndpointAllowed(subscription.endpoint, options.allowPrivate)) return { ok: false, reason: 'address_not_allowed' };
  let details: ReturnType<typeof WebPush.generateRequestDetails>;
  try {
    details = webPush().generateRequestDetails(subscription, payload, {
      vapidDetails: { subject: options.subject, publicKey: options.vapid.publicKey, privateKey: options.vapid.privateKey },
      TTL: options.ttlSeconds,
      contentEncoding: 'aes128gcm',
      urgency: 'high',
    });
  } catch {
    return { ok: false, reason: 'refused' }; // keys that do not fit P-256: the subscription is broken
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(details.headers)) headers[name.toLowerCase()] = String(value);
  try {
    const reply = await post(new URL(details.endpoint), { headers, body: details.body ?? Buffer.alloc(0) }, withTimeout(options.timeoutMs), options.allowPrivate);
    if (reply.status >= 200 && reply.status < 300) return { ok: true, status: reply.status };
    // 404 and 410: the subscription is gone for good (RFC 8030 section 7.3).
    return { ok: false, reason: reply.status === 404 || reply.status === 410 ? 'gone' : 'refused', status: reply.status };
  } catch (error) {
    return { ok: false, reason: isAddressNotAllowed(error) ? 'address_not_allowed' : 'unreachable' };
  }
}
