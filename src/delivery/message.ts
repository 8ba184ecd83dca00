/**
 * Checks every provider makes before sending: the channel is one it carries and the
 * destination has the right form. A bad destination is a permanent failure (`delivery_failed`):
 * no retry can fix it.
 */
import { deliveryFailed } from './errors.js';
import type { DeliveryProvider, OutgoingMessage } from './types.js';

const E164 = /^\+[1-9]\d{6,14}$/;
// Deliberately plain: one @, no spaces or control characters, a dotted domain. Real validation
// of an address is sending a code to it.
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function isE164(value: string): boolean {
  return E164.test(value);
}

export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value);
}

export function checkMessage(provider: Pick<DeliveryProvider, 'kind' | 'channels'>, message: OutgoingMessage): void {
  if (!provider.channels.includes(message.channel)) {
    throw deliveryFailed(provider.kind, `The ${provider.kind} provider cannot send ${message.channel === 'sms' ? 'text messages' : 'email'}`, {
      reason: 'channel_unsupported',
    });
  }
  const valid = message.channel === 'sms' ? isE164(message.to) : isEmailAddress(message.to);
  if (!valid) {
    throw deliveryFailed(
      provider.kind,
      message.channel === 'sms' ? 'The destination is not a phone number in E.164 form' : 'The destination is not a valid email address',
      { reason: 'destination_invalid' },
    );
  }
  if (message.text.length === 0) throw deliveryFailed(provider.kind, 'The message has no text', { reason: 'message_empty' });
}
