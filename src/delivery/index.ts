/**
 * The delivery layer: turn a stored provider configuration into something that can send, send
 * with bounded retries, and render the messages. Services import from here only.
 */
import { createCdyneProvider } from './cdyne.js';
import type { ProviderConfig } from './config.js';
import { createConsoleProvider } from './console.js';
import { providerConfigInvalid } from './errors.js';
import { createFileProvider } from './file.js';
import { createSmtpProvider } from './smtp.js';
import { createTwilioProvider } from './twilio.js';
import type { DeliveryProvider, ProviderEnvironment } from './types.js';
import { createWebhookProvider } from './webhook.js';

/** Builds the provider a configuration describes. Throws `provider_config_invalid` for a configuration that cannot work. */
export function createProvider(config: ProviderConfig, env: ProviderEnvironment = {}): DeliveryProvider {
  const network = { allowPrivateAddresses: env.allowPrivateAddresses === true };
  switch (config.kind) {
    case 'smtp':
      return createSmtpProvider(config, network);
    case 'twilio':
      return createTwilioProvider(config, network);
    case 'cdyne':
      return createCdyneProvider(config, network);
    case 'webhook':
      return createWebhookProvider(config, env.now, network);
    case 'console':
      return createConsoleProvider(config, env.log);
    case 'file':
      if (!env.dataDir) throw providerConfigInvalid('The file provider needs the data directory');
      return createFileProvider(config, env.dataDir, env.now);
    default: {
      const kind: unknown = (config as { kind?: unknown }).kind;
      throw providerConfigInvalid(`Unknown provider kind ${JSON.stringify(kind)}`);
    }
  }
}

export type { Channel, DeliveryLog, DeliveryProvider, OutgoingMessage, ProviderEnvironment, ProviderKind, SendResult } from './types.js';
export { CHANNELS, PROVIDER_KINDS } from './types.js';
export type { DeliveryErrorDetails } from './errors.js';
export { DELIVERY_FAILED, DELIVERY_UNAVAILABLE, DeliveryError, deliveryFailed, deliveryUnavailable, isDeliveryError } from './errors.js';
export type { ProviderConfig } from './config.js';
export { PROVIDER_ADDRESS_NOT_ALLOWED, SECRET_FIELDS, checkProviderAddresses, mergeProviderSecrets, parseProviderConfig, redactProviderConfig, redactSecret, validateProviderConfig } from './config.js';
export { isAddressAllowed, isPublicAddress } from './network.js';
export type { SmtpProviderConfig, SmtpTlsMode } from './smtp.js';
export type { TwilioProviderConfig } from './twilio.js';
export type { CdyneProviderConfig } from './cdyne.js';
export type { WebhookPayload, WebhookProviderConfig } from './webhook.js';
export { DELIVERY_ID_HEADER, SIGNATURE_HEADER, signWebhookBody, verifyWebhookSignature } from './webhook.js';
export type { ConsoleProviderConfig } from './console.js';
export type { FileOutboxEntry, FileProviderConfig } from './file.js';
export { outboxPath } from './file.js';
export type { RetryOptions, RetryResult } from './retry.js';
export { sendWithRetry } from './retry.js';
export type { CodeAction, CodeMessageInput, CodePurpose, PasswordResetInput, RenderedMessage, SecurityNoticeInput } from './templates.js';
export { codeMessage, escapeHtml, passwordResetMessage, securityNotice } from './templates.js';
export type { BackupCodesMessageInput, InvitationInput } from './templates.js';
export { backupCodesMessage } from './templates.js';
export { invitationMessage } from './templates.js';
export type { ParsePhoneOptions, ParsedPhone } from './phone.js';
export { maskEmail, maskPhone, parseEmailAddress, parsePhoneNumber } from './phone.js';
export { isE164, isEmailAddress } from './message.js';
export type { PushOutcome, PushSubscriptionKeys, VapidKeyPair } from './web-push.js';
export { generateVapidKeys, pushEndpointAllowed, sendWebPush } from './web-push.js';
