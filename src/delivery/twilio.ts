/**
 * Text messages through Twilio's Programmable Messaging REST API:
 *   POST {baseUrl}/2010-04-01/Accounts/{AccountSid}/Messages.json
 * form-encoded `To`, `From` or `MessagingServiceSid`, `Body`; HTTP Basic auth as
 * AccountSid:AuthToken, or ApiKeySid:ApiKeySecret (the account SID stays in the path).
 * Success is 201 with the message resource (`sid`); errors carry `{code, message, more_info}`.
 */
import { deliveryFailed, deliveryUnavailable, providerConfigInvalid } from './errors.js';
import { endpointUrl, isRecord, isTransientStatus, parseJson, postHttp, timeoutMsFrom } from './http.js';
import type { NetworkOptions } from './http.js';
import { checkMessage } from './message.js';
import type { Channel, DeliveryProvider, OutgoingMessage, SendResult } from './types.js';

export const TWILIO_BASE_URL = 'https://api.twilio.com';

export interface TwilioProviderConfig {
  kind: 'twilio';
  accountSid: string;
  /** Either the account's auth token ... */
  authToken?: string;
  /** ... or an API key (SID and secret). */
  apiKeySid?: string;
  apiKeySecret?: string;
  /** Exactly one of a sender (E.164 number, short code or alphanumeric sender ID) ... */
  from?: string;
  /** ... or a messaging service that picks the sender. */
  messagingServiceSid?: string;
  /** Default https://api.twilio.com; overridable for tests and regional edges. */
  baseUrl?: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

const CHANNELS: readonly Channel[] = ['sms'];
const SID = (prefix: string) => new RegExp(`^${prefix}[0-9a-fA-F]{32}$`);
const SENDER = /^(?:\+[1-9]\d{6,14}|\d{3,8}|(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11})$/;

export function validateTwilioConfig(config: TwilioProviderConfig): TwilioProviderConfig & { baseUrl: string; timeoutMs: number } {
  if (!SID('AC').test(config.accountSid)) throw providerConfigInvalid('accountSid must look like AC followed by 32 hex digits');
  const usesToken = config.authToken !== undefined && config.authToken !== '';
  const usesKey = config.apiKeySid !== undefined || config.apiKeySecret !== undefined;
  if (usesToken === usesKey) throw providerConfigInvalid('Give either authToken, or apiKeySid with apiKeySecret (not both)');
  if (usesKey) {
    if (!config.apiKeySid || !SID('SK').test(config.apiKeySid)) throw providerConfigInvalid('apiKeySid must look like SK followed by 32 hex digits');
    if (!config.apiKeySecret) throw providerConfigInvalid('apiKeySecret is required with apiKeySid');
  }
  const hasFrom = config.from !== undefined && config.from !== '';
  const hasService = config.messagingServiceSid !== undefined && config.messagingServiceSid !== '';
  if (hasFrom === hasService) throw providerConfigInvalid('Give either from or messagingServiceSid (exactly one)');
  if (hasFrom && !SENDER.test(config.from as string)) {
    throw providerConfigInvalid('from must be an E.164 number, a short code or an alphanumeric sender ID of at most 11 characters');
  }
  if (hasService && !SID('MG').test(config.messagingServiceSid as string)) {
    throw providerConfigInvalid('messagingServiceSid must look like MG followed by 32 hex digits');
  }
  return {
    ...config,
    baseUrl: endpointUrl(config.baseUrl ?? TWILIO_BASE_URL, 'baseUrl'),
    timeoutMs: timeoutMsFrom(config.timeoutMs),
  };
}

export function createTwilioProvider(input: TwilioProviderConfig, network: NetworkOptions = {}): DeliveryProvider {
  const config = validateTwilioConfig(input);
  const url = `${config.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(config.accountSid)}/Messages.json`;
  const [user, secret] = config.authToken ? [config.accountSid, config.authToken] : [config.apiKeySid ?? '', config.apiKeySecret ?? ''];
  const authorization = `Basic ${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}`;

  const provider: DeliveryProvider = {
    kind: 'twilio',
    channels: CHANNELS,
    async send(message: OutgoingMessage, signal?: AbortSignal): Promise<SendResult> {
      checkMessage(provider, message);
      const form = new URLSearchParams({ To: message.to, Body: message.text });
      if (config.messagingServiceSid) form.set('MessagingServiceSid', config.messagingServiceSid);
      else form.set('From', config.from ?? '');
      const reply = await postHttp(
        'twilio',
        url,
        {
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: form.toString(),
        },
        config.timeoutMs,
        signal,
        network,
      );
      const body = parseJson(reply.text);
      if (reply.status >= 200 && reply.status < 300) {
        const sid = isRecord(body) && typeof body.sid === 'string' ? body.sid : undefined;
        return sid ? { providerMessageId: sid } : {};
      }
      const code = isRecord(body) && (typeof body.code === 'number' || typeof body.code === 'string') ? body.code : undefined;
      const detail = isRecord(body) && typeof body.message === 'string' ? body.message.slice(0, 300) : undefined;
      const text = `Twilio refused the message (HTTP ${reply.status}${code !== undefined ? `, error ${code}` : ''})${detail ? `: ${detail}` : ''}`;
      const extra = { status: reply.status, ...(code !== undefined ? { providerCode: code } : {}) };
      throw isTransientStatus(reply.status) ? deliveryUnavailable('twilio', text, extra) : deliveryFailed('twilio', text, extra);
    },
  };
  return provider;
}
