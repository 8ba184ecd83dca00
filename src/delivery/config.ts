/**
 * Provider configurations as data: the discriminated union stored per organisation, a parser
 * for untrusted input (admin API and forms, rows read back from the database), and redaction
 * for showing a configuration back without its secrets.
 */
import { invalidInput } from '../core/errors.js';
import { providerConfigInvalid } from './errors.js';
import type { CdyneProviderConfig } from './cdyne.js';
import { CDYNE_BASE_URL, validateCdyneConfig } from './cdyne.js';
import type { ConsoleProviderConfig } from './console.js';
import type { FileProviderConfig } from './file.js';
import { outboxPath } from './file.js';
import type { SmtpProviderConfig } from './smtp.js';
import { validateSmtpConfig } from './smtp.js';
import type { TwilioProviderConfig } from './twilio.js';
import { TWILIO_BASE_URL, validateTwilioConfig } from './twilio.js';
import type { ProviderKind } from './types.js';
import { PROVIDER_KINDS } from './types.js';
import type { WebhookProviderConfig } from './webhook.js';
import { validateWebhookConfig } from './webhook.js';
import { hostAllowedForSaving } from './network.js';

export type ProviderConfig =
  | SmtpProviderConfig
  | TwilioProviderConfig
  | CdyneProviderConfig
  | WebhookProviderConfig
  | ConsoleProviderConfig
  | FileProviderConfig;

type FieldType = 'string' | 'secret' | 'number' | 'boolean' | 'channels';
interface FieldSpec {
  type: FieldType;
  required?: boolean;
}

const FIELDS: Record<ProviderKind, Record<string, FieldSpec>> = {
  smtp: {
    host: { type: 'string', required: true },
    port: { type: 'number' },
    tlsMode: { type: 'string', required: true },
    user: { type: 'string' },
    password: { type: 'secret' },
    from: { type: 'string', required: true },
    connectionTimeoutMs: { type: 'number' },
    socketTimeoutMs: { type: 'number' },
    allowInvalidCertificates: { type: 'boolean' },
  },
  twilio: {
    accountSid: { type: 'string', required: true },
    authToken: { type: 'secret' },
    apiKeySid: { type: 'string' },
    apiKeySecret: { type: 'secret' },
    from: { type: 'string' },
    messagingServiceSid: { type: 'string' },
    baseUrl: { type: 'string' },
    timeoutMs: { type: 'number' },
  },
  cdyne: {
    licenseKey: { type: 'secret', required: true },
    from: { type: 'string' },
    baseUrl: { type: 'string' },
    timeoutMs: { type: 'number' },
  },
  webhook: {
    url: { type: 'string', required: true },
    secret: { type: 'secret', required: true },
    channels: { type: 'channels' },
    timeoutMs: { type: 'number' },
  },
  console: {},
  file: { fileName: { type: 'string' } },
};

/** The fields of each kind that hold credentials: encrypted at rest, never shown in full. */
export const SECRET_FIELDS: Readonly<Record<ProviderKind, readonly string[]>> = Object.fromEntries(
  PROVIDER_KINDS.map((kind) => [kind, Object.entries(FIELDS[kind]).filter(([, spec]) => spec.type === 'secret').map(([name]) => name)]),
) as unknown as Record<ProviderKind, readonly string[]>;

function isKind(value: unknown): value is ProviderKind {
  return typeof value === 'string' && (PROVIDER_KINDS as readonly string[]).includes(value);
}

/**
 * Checks untrusted input field by field and then semantically (URLs, SIDs, ports, ...). Empty
 * strings count as absent, so an HTML form's blank optional fields are fine. Unknown fields are
 * refused rather than silently stored. Throws invalid_input `provider_config_invalid`.
 */
export function parseProviderConfig(input: unknown): ProviderConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw providerConfigInvalid('The configuration must be an object');
  const raw = input as Record<string, unknown>;
  if (!isKind(raw.kind)) throw providerConfigInvalid(`kind must be one of ${PROVIDER_KINDS.join(', ')}`);
  const kind = raw.kind;
  const spec = FIELDS[kind];
  const out: Record<string, unknown> = { kind };
  for (const key of Object.keys(raw)) {
    if (key !== 'kind' && !(key in spec)) throw providerConfigInvalid(`Unknown field "${key}" for a ${kind} provider`);
  }
  for (const [name, field] of Object.entries(spec)) {
    let value = raw[name];
    if (typeof value === 'string' && field.type !== 'secret') value = value.trim();
    if (value === undefined || value === null || value === '') {
      if (field.required) throw providerConfigInvalid(`${name} is required`);
      continue;
    }
    switch (field.type) {
      case 'string':
      case 'secret':
        if (typeof value !== 'string') throw providerConfigInvalid(`${name} must be a string`);
        if (value.length > 2048) throw providerConfigInvalid(`${name} is too long`);
        break;
      case 'number':
        if (typeof value === 'string' && /^\d{1,9}$/.test(value)) value = Number(value);
        if (typeof value !== 'number' || !Number.isFinite(value)) throw providerConfigInvalid(`${name} must be a number`);
        break;
      case 'boolean':
        if (value === 'true' || value === 'on') value = true;
        else if (value === 'false') value = false;
        if (typeof value !== 'boolean') throw providerConfigInvalid(`${name} must be true or false`);
        break;
      case 'channels':
        if (typeof value === 'string') value = value.split(',').map((c) => c.trim()).filter((c) => c !== '');
        if (!Array.isArray(value) || value.some((c) => c !== 'email' && c !== 'sms')) {
          throw providerConfigInvalid("channels must list 'email' and/or 'sms'");
        }
        break;
    }
    out[name] = value;
  }
  const config = out as unknown as ProviderConfig;
  validateProviderConfig(config);
  return config;
}

/** The semantic checks each provider's factory makes, without creating anything. */
export function validateProviderConfig(config: ProviderConfig): void {
  switch (config.kind) {
    case 'smtp':
      validateSmtpConfig(config);
      return;
    case 'twilio':
      validateTwilioConfig(config);
      return;
    case 'cdyne':
      validateCdyneConfig(config);
      return;
    case 'webhook':
      validateWebhookConfig(config);
      return;
    case 'file':
      outboxPath('/', config);
      return;
    case 'console':
      return;
  }
}

export const PROVIDER_ADDRESS_NOT_ALLOWED = 'provider_address_not_allowed';

/** Where a configuration connects to: the host name or IP literal, and the field that says so. */
function providerHost(config: ProviderConfig): { field: string; host: string } | undefined {
  switch (config.kind) {
    case 'smtp':
      return { field: 'host', host: config.host };
    case 'twilio':
      return { field: 'baseUrl', host: new URL(config.baseUrl ?? TWILIO_BASE_URL).hostname };
    case 'cdyne':
      return { field: 'baseUrl', host: new URL(config.baseUrl ?? CDYNE_BASE_URL).hostname };
    case 'webhook':
      return { field: 'url', host: new URL(config.url).hostname };
    case 'console':
    case 'file':
      return undefined;
  }
}

/**
 * The save-time half of the network rule (network.ts), for a configuration parseProviderConfig
 * accepted: an IP literal that is not public, or a `localhost` name, is refused with invalid_input
 * `provider_address_not_allowed` unless the operator allows internal addresses. Names are checked
 * again, resolved, on every connection. Not part of parseProviderConfig, which also reads stored
 * rows back: a provider saved while internal addresses were allowed stays readable.
 */
export function checkProviderAddresses(config: ProviderConfig, allowPrivate: boolean): void {
  const target = providerHost(config);
  if (!target || hostAllowedForSaving(target.host, allowPrivate)) return;
  throw invalidInput(
    PROVIDER_ADDRESS_NOT_ALLOWED,
    `${target.field} points at ${target.host}, a loopback, private or otherwise internal address. Delivery providers must be reachable on the public internet; the server's operator can allow internal addresses with TWOFOLD_DELIVERY_ALLOW_PRIVATE=true.`,
  );
}

export const REDACTED_PREFIX = '••••';

/** "••••abcd": the last four characters of a long secret, nothing of a short one. */
export function redactSecret(secret: string): string {
  return secret.length >= 12 ? `${REDACTED_PREFIX}${secret.slice(-4)}` : REDACTED_PREFIX;
}

/** A copy safe to show in the admin console or log: every secret field redacted. */
export function redactProviderConfig<T extends ProviderConfig>(config: T): T {
  const copy: Record<string, unknown> = { ...config };
  for (const name of SECRET_FIELDS[config.kind]) {
    const value = copy[name];
    if (typeof value === 'string' && value !== '') copy[name] = redactSecret(value);
  }
  return copy as T;
}

// A kept secret must still go to the same place under the same identity: changing any of these
// fields requires typing the secret again, so an edit can never redirect a stored credential to
// another server (or pair it with another account).
const SECRET_BINDINGS: Record<string, readonly string[]> = {
  'smtp.password': ['host', 'port', 'user', 'tlsMode'],
  'twilio.authToken': ['accountSid', 'baseUrl', 'apiKeySid'],
  'twilio.apiKeySecret': ['accountSid', 'baseUrl', 'apiKeySid'],
  'cdyne.licenseKey': ['baseUrl'],
  'webhook.secret': ['url'],
};

function sameField(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : typeof v === 'string' ? v.trim() : v);
  return String(norm(a)) === String(norm(b));
}

/**
 * For an edit form that shows secrets redacted. Run it on the raw input before
 * parseProviderConfig: a secret left blank, or sent back exactly as shown, keeps its previous
 * value, provided the kind and the fields that say where the secret is used (host, URL, account)
 * are unchanged. Anything else is returned as given, to be parsed and checked as usual.
 */
export function mergeProviderSecrets(previous: ProviderConfig | undefined, input: Record<string, unknown>): Record<string, unknown> {
  if (!previous || previous.kind !== input.kind) return input;
  const merged: Record<string, unknown> = { ...input };
  const before = previous as unknown as Record<string, unknown>;
  for (const name of SECRET_FIELDS[previous.kind]) {
    const old = before[name];
    const value = merged[name];
    if (typeof old !== 'string' || old === '') continue;
    if (!(value === undefined || value === null || value === '' || value === redactSecret(old))) continue;
    const bindings = SECRET_BINDINGS[`${previous.kind}.${name}`] ?? [];
    if (bindings.every((field) => sameField(before[field], merged[field]))) merged[name] = old;
    else if (value !== undefined && value !== null && value !== '') delete merged[name];
  }
  return merged;
}
