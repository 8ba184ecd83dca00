/**
 * Development default: "sends" by writing the whole message, code included, to the log. Never
 * use it where the log is read by anyone who should not see sign-in codes.
 */
import { randomUUID } from 'node:crypto';
import { checkMessage } from './message.js';
import type { Channel, DeliveryLog, DeliveryProvider, OutgoingMessage, SendResult } from './types.js';

export interface ConsoleProviderConfig {
  kind: 'console';
}

const CHANNELS: readonly Channel[] = ['email', 'sms'];

export const defaultDeliveryLog: DeliveryLog = (message, fields) => {
  process.stdout.write(`${JSON.stringify({ level: 'info', time: Date.now(), msg: message, ...fields })}\n`);
};

export function createConsoleProvider(_config: ConsoleProviderConfig = { kind: 'console' }, log: DeliveryLog = defaultDeliveryLog): DeliveryProvider {
  const provider: DeliveryProvider = {
    kind: 'console',
    channels: CHANNELS,
    async send(message: OutgoingMessage): Promise<SendResult> {
      checkMessage(provider, message);
      const id = randomUUID();
      log(`delivery (console): ${message.channel} to ${message.to}`, {
        delivery: { id, channel: message.channel, to: message.to, subject: message.subject ?? null, text: message.text },
      });
      return { providerMessageId: id };
    },
  };
  return provider;
}
