import type { Channel, DeliveryProvider, OutgoingMessage, ProviderConfig, RetryResult } from '../../delivery/index.js';
import { createProvider, isDeliveryError, parseProviderConfig, sendWithRetry } from '../../delivery/index.js';
import { unavailable } from '../../core/errors.js';
import type { DeliveryProviderRow, Executor } from '../../store/index.js';
import { deliveryProviders } from '../../store/index.js';
import type { ServiceDeps } from '../context.js';
import { providerConfigContext } from '../secret-contexts.js';
import { CHANNEL_LABELS, channelStatus } from './channels.js';

export interface SentMessage extends RetryResult {
  providerId: string | null;
  providerKind: string;
}

/** Used for account email (password reset, notices) while an organisation has set up no email provider. */
export const DEVELOPMENT_OUTBOX: ProviderConfig = { kind: 'file' };

/**
 * Hands a message to the provider an organisation's channel entry names, with bounded retries.
 * Provider errors are logged in full by the caller's audit record, but users only ever see
 * `delivery_failed` with a plain sentence: a provider's own error text is not for them.
 */
export class MessageSender {
  constructor(private readonly deps: ServiceDeps) {}

  openProvider(row: DeliveryProviderRow): DeliveryProvider {
    return createProvider(this.readConfig(row), {
      dataDir: this.deps.settings.dataDir,
      now: this.deps.clock,
      allowPrivateAddresses: this.deps.settings.deliveryAllowPrivate === true,
    });
  }

  readConfig(row: DeliveryProviderRow): ProviderConfig {
    return parseProviderConfig(JSON.parse(this.deps.box.decrypt(row.config_encrypted, providerConfigContext(row.id))));
  }

  sealConfig(providerId: string, config: ProviderConfig): string {
    return this.deps.box.encrypt(JSON.stringify(config), providerConfigContext(providerId));
  }

  /** Sends through the organisation's entry for the channel; `fallbackToOutbox` serves account email on a new install. */
  async sendFor(db: Executor, orgId: string, message: OutgoingMessage, options: { fallbackToOutbox?: boolean; requireAllowed?: boolean } = {}): Promise<SentMessage> {
    const status = await channelStatus(db, orgId, message.channel);
    // Second-factor codes go only where the channel is allowed; account notices go wherever a provider is set up.
    if (options.requireAllowed && !status.available) throw unavailable('channel_unavailable', `${CHANNEL_LABELS[message.channel]} codes are not available for your organisation.`);
    const row = status.entry?.provider_id ? await deliveryProviders.findProvider(db, status.entry.provider_id) : undefined;
    if (!row) {
      if (!options.fallbackToOutbox) throw unavailable('channel_unavailable', `${CHANNEL_LABELS[message.channel]} is not set up for your organisation.`);
      const outbox = createProvider(DEVELOPMENT_OUTBOX, { dataDir: this.deps.settings.dataDir, now: this.deps.clock });
      return { ...(await this.deliver(outbox, message)), providerId: null, providerKind: outbox.kind };
    }
    return { ...(await this.deliver(this.openProvider(row), message)), providerId: row.id, providerKind: row.kind };
  }

  async deliver(provider: DeliveryProvider, message: OutgoingMessage): Promise<RetryResult> {
    return sendWithRetry(provider, message, { attempts: this.deps.settings.deliveryAttempts, timeoutMs: this.deps.settings.deliveryTimeoutMs });
  }
}

/** What the user is told when a provider fails; the provider's own words go to the audit log only. */
export function deliveryFailedForUser(channel: Channel, error: unknown): Error {
  const where = channel === 'sms' ? 'a text message' : 'an email';
  const failure = unavailable('delivery_failed', `We could not send ${where} just now. Try again in a minute, or choose another method.`);
  if (isDeliveryError(error)) Object.defineProperty(failure, 'cause', { value: error, enumerable: false });
  return failure;
}

/**
 * A provider's failure, for the audit log and the server log: its words, status and codes. Its
 * words often repeat the destination ("The 'To' number +4915112345678 is not valid"); the audit
 * log is read by admins and shown to the person, who see destinations masked everywhere else, so
 * phone numbers and email addresses in them are masked too, and the text is cut at 500 characters.
 */
export function deliveryFailureDetails(error: unknown): Record<string, unknown> {
  const words = maskDestinations(error instanceof Error ? error.message : String(error));
  if (isDeliveryError(error)) return { ...error.details, error: words };
  return { error: words };
}

export function maskDestinations(text: string): string {
  return text
    .replace(/[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}/g, (email) => `${email[0]}…@${email.split('@')[1]}`)
    // International (+…), a bare run of 7 to 15 digits, or a North American 3-3-4 number; not dates or times.
    .replace(/\+\d[\d ().-]{5,}\d|\b\d{7,15}\b|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b/g, (number) => `…${number.replace(/\D/g, '').slice(-2)}`)
    .slice(0, 500);
}
