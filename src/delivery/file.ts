/**
 * Development and test provider: appends each message as one JSON line to
 * `<dataDir>/delivery/<fileName>` (default `outbox.jsonl`), readable only by the server's user.
 * The file name is a bare name so a stored configuration can never point outside the data dir.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { deliveryUnavailable, providerConfigInvalid } from './errors.js';
import { checkMessage } from './message.js';
import type { Channel, DeliveryProvider, OutgoingMessage, SendResult } from './types.js';

export interface FileProviderConfig {
  kind: 'file';
  /** A bare file name ending in .jsonl; default `outbox.jsonl`. */
  fileName?: string;
}

/** One line of the outbox file. */
export interface FileOutboxEntry {
  id: string;
  sentAt: string;
  channel: Channel;
  to: string;
  subject: string | null;
  text: string;
  html: string | null;
}

const CHANNELS: readonly Channel[] = ['email', 'sms'];
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.jsonl$/;

export function outboxPath(dataDir: string, config: FileProviderConfig = { kind: 'file' }): string {
  const fileName = config.fileName ?? 'outbox.jsonl';
  if (!FILE_NAME.test(fileName) || fileName.includes('..')) {
    throw providerConfigInvalid('fileName must be a plain file name ending in .jsonl');
  }
  return join(dataDir, 'delivery', fileName);
}

export function createFileProvider(config: FileProviderConfig, dataDir: string, now: () => number = Date.now): DeliveryProvider {
  const path = outboxPath(dataDir, config);
  const directory = join(dataDir, 'delivery');

  const provider: DeliveryProvider = {
    kind: 'file',
    channels: CHANNELS,
    async send(message: OutgoingMessage): Promise<SendResult> {
      checkMessage(provider, message);
      const entry: FileOutboxEntry = {
        id: randomUUID(),
        sentAt: new Date(now()).toISOString(),
        channel: message.channel,
        to: message.to,
        subject: message.subject ?? null,
        text: message.text,
        html: message.html ?? null,
      };
      try {
        await mkdir(directory, { recursive: true, mode: 0o700 });
        // One write with O_APPEND: concurrent sends never interleave within a line.
        await appendFile(path, `${JSON.stringify(entry)}\n`, { encoding: 'utf8', mode: 0o600, flag: 'a' });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw deliveryUnavailable('file', `The outbox file could not be written${code ? ` (${code})` : ''}`, code ? { providerCode: code } : {}, error);
      }
      return { providerMessageId: entry.id };
    },
  };
  return provider;
}
