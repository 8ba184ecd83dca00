/**
 * Text messages through CDYNE SMS Notify! (messaging API v2):
 *   POST {baseUrl}/Messaging.svc/SendMessage, JSON
 *   { LicenseKey, Body, To: ["15551234567"], From?, Concatenate, IsUnicode, UseMMS: false }
 * answered with an array of OutgoingMessageResponse `{ MessageID, MessageStatus, To, ... }`.
 * Reference: cdyne.com/docs/sms-api (SendMessage) and the service's help page
 * messaging.cdyne.com/Messaging.svc/help/operations/SendMessage.
 *
 * Numbers go without the leading "+". `MessageStatus` is documented as a name ("Ready") and
 * WCF's JSON serialiser may send the enum's number (201) instead, so both are understood:
 * Sent 200 / Ready 201 / Processing 202 mean accepted; Failed 506 (not handed to the carrier)
 * is transient; every other status (InvalidLicenseKey 401, InvalidDestination 406,
 * StopOnPhoneNumber 403, Hold 0, ...) is permanent.
 */
import { deliveryFailed, deliveryUnavailable, providerConfigInvalid } from './errors.js';
import { endpointUrl, isRecord, isTransientStatus, parseJson, postHttp, timeoutMsFrom } from './http.js';
import type { NetworkOptions } from './http.js';
import { checkMessage } from './message.js';
import type { Channel, DeliveryProvider, OutgoingMessage, SendResult } from './types.js';

export const CDYNE_BASE_URL = 'https://messaging.cdyne.com';

export interface CdyneProviderConfig {
  kind: 'cdyne';
  /** The SMS Notify! license key (a GUID). */
  licenseKey: string;
  /** The DID or short code to send from; Cdyne picks one of the account's when unset. */
  from?: string;
  /** Default https://messaging.cdyne.com; overridable for tests. */
  baseUrl?: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

const CHANNELS: readonly Channel[] = ['sms'];
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const ACCEPTED = new Map<string | number, string>([
  ['Sent', 'Sent'],
  ['Ready', 'Ready'],
  ['Processing', 'Processing'],
  [200, 'Sent'],
  [201, 'Ready'],
  [202, 'Processing'],
]);
const STATUS_NAMES = new Map<number, string>([
  [0, 'Hold'],
  [400, 'InvalidDID'],
  [401, 'InvalidLicenseKey'],
  [402, 'AccountSuspended'],
  [403, 'StopOnPhoneNumber'],
  [404, 'MissingDIDOrInvalidMessageID'],
  [405, 'InvalidDateTime'],
  [406, 'InvalidDestination'],
  [411, 'NoMessage'],
  [413, 'MessageExceedsLimit'],
  [506, 'Failed'],
  [507, 'Cancelled'],
  [508, 'FailedByProvider'],
]);

export function validateCdyneConfig(config: CdyneProviderConfig): CdyneProviderConfig & { baseUrl: string; timeoutMs: number } {
  if (!GUID.test(config.licenseKey)) throw providerConfigInvalid('licenseKey must be the GUID from the Cdyne account');
  if (config.from !== undefined && config.from !== '' && !/^\+?\d{3,15}$/.test(config.from)) {
    throw providerConfigInvalid('from must be a phone number (DID) or short code, digits only');
  }
  return { ...config, baseUrl: endpointUrl(config.baseUrl ?? CDYNE_BASE_URL, 'baseUrl'), timeoutMs: timeoutMsFrom(config.timeoutMs) };
}

/** GSM 03.38 covers printable ASCII (minus a few) plus some accents; anything else needs UCS-2. */
function needsUnicode(text: string): boolean {
  return /[^\n\r\x20-\x7E£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉÄÖÑÜ§¿äöñüà€]/.test(text);
}

export function createCdyneProvider(input: CdyneProviderConfig, network: NetworkOptions = {}): DeliveryProvider {
  const config = validateCdyneConfig(input);
  const url = `${config.baseUrl}/Messaging.svc/SendMessage`;
  const from = config.from ? config.from.replace(/^\+/, '') : undefined;

  const provider: DeliveryProvider = {
    kind: 'cdyne',
    channels: CHANNELS,
    async send(message: OutgoingMessage, signal?: AbortSignal): Promise<SendResult> {
      checkMessage(provider, message);
      const request = {
        LicenseKey: config.licenseKey,
        Body: message.text,
        To: [message.to.replace(/^\+/, '')],
        ...(from ? { From: from } : {}),
        Concatenate: true,
        IsUnicode: needsUnicode(message.text),
        UseMMS: false,
      };
      const reply = await postHttp(
        'cdyne',
        url,
        { headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(request) },
        config.timeoutMs,
        signal,
        network,
      );
      if (reply.status < 200 || reply.status >= 300) {
        const text = `Cdyne refused the request (HTTP ${reply.status})`;
        throw isTransientStatus(reply.status)
          ? deliveryUnavailable('cdyne', text, { status: reply.status })
          : deliveryFailed('cdyne', text, { status: reply.status });
      }
      const body = parseJson(reply.text);
      const first = Array.isArray(body) ? (body[0] as unknown) : body;
      if (!isRecord(first)) throw deliveryUnavailable('cdyne', 'Cdyne answered with something other than a message status', { status: reply.status });
      const status = first.MessageStatus;
      const messageId = typeof first.MessageID === 'string' ? first.MessageID : undefined;
      if ((typeof status === 'string' || typeof status === 'number') && ACCEPTED.has(status)) {
        return messageId ? { providerMessageId: messageId } : {};
      }
      const name = typeof status === 'number' ? (STATUS_NAMES.get(status) ?? String(status)) : String(status);
      const extra = { status: reply.status, providerCode: name };
      if (name === 'Failed') throw deliveryUnavailable('cdyne', 'Cdyne could not hand the message to the carrier (Failed)', extra);
      throw deliveryFailed('cdyne', `Cdyne refused the message (${name})`, extra);
    },
  };
  return provider;
}
