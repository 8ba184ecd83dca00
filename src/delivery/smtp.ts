/**
 * Email through an SMTP relay, with nodemailer. One connection per message (no pool): codes are
 * few and latency matters less than never holding a stale connection.
 *
 * TLS modes: `tls` is implicit TLS from the first byte (usually port 465); `starttls` upgrades a
 * plain connection and refuses to go on without it (usually 587); `none` never encrypts, for a
 * relay on the same host or network.
 *
 * The connection itself is opened here, not by nodemailer: only to an address the network rule
 * allows (network.ts), checked in the socket's own DNS lookup so the address connected to is the
 * address checked. Implicit TLS is set up on it here too; nodemailer speaks SMTP (and STARTTLS)
 * over the socket it is handed.
 */
import { connect as netConnect, isIP } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type nodemailer from 'nodemailer';
import type { NodemailerError, Transporter } from 'nodemailer';
import { loadOnFirstUse } from '../core/load-on-first-use.js';
import { deliveryFailed, deliveryUnavailable, isDeliveryError, providerConfigInvalid } from './errors.js';
import type { DeliveryError } from './errors.js';
import type { NetworkOptions } from './http.js';
import { addressNotAllowed, isLoopbackHost } from './http.js';
import { checkLiteralHost, checkedLookup, isAddressNotAllowed } from './network.js';
import { checkMessage, isEmailAddress } from './message.js';
import type { Channel, DeliveryProvider, OutgoingMessage, SendResult } from './types.js';

export type SmtpTlsMode = 'none' | 'starttls' | 'tls';

export interface SmtpProviderConfig {
  kind: 'smtp';
  host: string;
  /** Defaults to 465 for `tls`, 587 otherwise. */
  port?: number;
  tlsMode: SmtpTlsMode;
  /** Leave both unset for a relay that needs no login. */
  user?: string;
  password?: string;
  /** `no-reply@example.com` or `Example <no-reply@example.com>`. */
  from: string;
  /** Time to open the connection and get the greeting. Default 10 s. */
  connectionTimeoutMs?: number;
  /** Longest silence from the server once connected. Default 20 s. */
  socketTimeoutMs?: number;
  /** Accept a self-signed or mismatched certificate. Development relays only. */
  allowInvalidCertificates?: boolean;
}

const CHANNELS: readonly Channel[] = ['email'];
const HOST = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[?[0-9A-Fa-f:.]+\]?$/;
// Codes of connection-level failures that mean "the server or network is not there right now".
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'EPROTOCOL', 'EABORT', 'EMAXLIMIT']);
// Certificate problems (self-signed, expired, wrong name, ...) are configuration problems:
// retrying meets the same certificate. Node's codes for them all match this.
const CERTIFICATE_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

export interface ParsedSender {
  name?: string;
  address: string;
}

/** `a@b.c` or `Name <a@b.c>` (the name optionally quoted); no line breaks. */
export function parseSender(from: string): ParsedSender | undefined {
  if (/[\r\n]/.test(from)) return undefined;
  const trimmed = from.trim();
  if (isEmailAddress(trimmed)) return { address: trimmed };
  const match = /^(?:"([^"\\]*)"|([^"<>]*?))\s*<([^<>\s]+)>$/.exec(trimmed);
  if (!match) return undefined;
  const name = (match[1] ?? match[2] ?? '').trim();
  const address = match[3] ?? '';
  if (!isEmailAddress(address)) return undefined;
  return name ? { name, address } : { address };
}

export type ResolvedSmtpConfig = SmtpProviderConfig & { port: number; connectionTimeoutMs: number; socketTimeoutMs: number };

export function validateSmtpConfig(config: SmtpProviderConfig): ResolvedSmtpConfig {
  if (!HOST.test(config.host)) throw providerConfigInvalid('host must be a host name or IP address');
  if (!['none', 'starttls', 'tls'].includes(config.tlsMode)) throw providerConfigInvalid("tlsMode must be 'none', 'starttls' or 'tls'");
  const port = config.port ?? (config.tlsMode === 'tls' ? 465 : 587);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw providerConfigInvalid('port must be between 1 and 65535');
  if ((config.user === undefined) !== (config.password === undefined) || config.user === '' || config.password === '') {
    throw providerConfigInvalid('user and password must be given together (or both left out)');
  }
  if (config.password !== undefined && config.tlsMode === 'none' && !isLoopbackHost(config.host)) {
    throw providerConfigInvalid("A password is sent only over TLS: choose tlsMode 'starttls' or 'tls' (plain 'none' with a login is allowed to localhost only)");
  }
  if (!parseSender(config.from)) throw providerConfigInvalid('from must be an email address, optionally as "Name <address>"');
  const connectionTimeoutMs = config.connectionTimeoutMs ?? 10_000;
  const socketTimeoutMs = config.socketTimeoutMs ?? 20_000;
  for (const [field, value] of [['connectionTimeoutMs', connectionTimeoutMs], ['socketTimeoutMs', socketTimeoutMs]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 120_000) throw providerConfigInvalid(`${field} must be between 1 and 120000 ms`);
  }
  return { ...config, port, connectionTimeoutMs, socketTimeoutMs };
}

export function createSmtpProvider(input: SmtpProviderConfig, network: NetworkOptions = {}): DeliveryProvider {
  const config = validateSmtpConfig(input);
  const sender = parseSender(config.from) as ParsedSender;
  const allowPrivate = network.allowPrivateAddresses === true;
  // Loaded when a provider is first set up, not at start: a server that sends no mail never holds it.
  const mailer = loadOnFirstUse<typeof nodemailer>('nodemailer');
  const transporter: Transporter = mailer.createTransport({
    getSocket: (_options, callback) => {
      openSocket(config, allowPrivate).then(
        (socket) => callback(null, socket),
        (error: Error) => callback(error),
      );
    },
    host: config.host,
    port: config.port,
    secure: config.tlsMode === 'tls',
    requireTLS: config.tlsMode === 'starttls',
    ignoreTLS: config.tlsMode === 'none',
    ...(config.user !== undefined ? { auth: { user: config.user, pass: config.password } } : {}),
    connectionTimeout: config.connectionTimeoutMs,
    greetingTimeout: config.connectionTimeoutMs,
    socketTimeout: config.socketTimeoutMs,
    socketCloseTimeout: 1_000,
    tls: { rejectUnauthorized: !config.allowInvalidCertificates, minVersion: 'TLSv1.2' },
  });

  const provider: DeliveryProvider = {
    kind: 'smtp',
    channels: CHANNELS,
    async send(message: OutgoingMessage, signal?: AbortSignal): Promise<SendResult> {
      checkMessage(provider, message);
      try {
        const info = (await transporter.sendMail({
          from: sender,
          to: message.to,
          subject: message.subject ?? '',
          text: message.text,
          ...(message.html !== undefined ? { html: message.html } : {}),
          headers: { 'Auto-Submitted': 'auto-generated' },
          ...(signal ? { signal } : {}),
        })) as { messageId?: string; rejected?: unknown[] };
        if (Array.isArray(info.rejected) && info.rejected.length > 0) {
          throw deliveryFailed('smtp', 'The SMTP server rejected the recipient', { reason: 'recipient_rejected' });
        }
        return info.messageId ? { providerMessageId: info.messageId } : {};
      } catch (error) {
        if (isDeliveryError(error)) throw error;
        throw smtpError(error, signal);
      }
    },
  };
  return provider;
}

/**
 * The connection nodemailer runs its session over. Failures carry nodemailer's own connection
 * code (ECONNECTION, the socket's code as `originalCode`), so smtpError treats them as it treats
 * nodemailer's; a refused address and a timeout keep theirs.
 */
function openSocket(config: ResolvedSmtpConfig, allowPrivate: boolean): Promise<{ connection: Socket; secured?: boolean }> {
  const host = config.host.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve, reject) => {
    checkLiteralHost(host, allowPrivate);
    const implicitTls = config.tlsMode === 'tls';
    const lookup = checkedLookup(allowPrivate);
    const socket = implicitTls
      ? tlsConnect({
          host,
          port: config.port,
          lookup,
          ...(isIP(host) ? {} : { servername: host }),
          rejectUnauthorized: !config.allowInvalidCertificates,
          minVersion: 'TLSv1.2',
        })
      : netConnect({ host, port: config.port, lookup });
    const ready = implicitTls ? 'secureConnect' : 'connect';
    const timer = setTimeout(() => fail(Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT' })), config.connectionTimeoutMs);
    const done = () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off(ready, onReady);
    };
    const fail = (error: Error) => {
      done();
      socket.destroy();
      reject(error);
    };
    const onError = (error: NodeJS.ErrnoException) => {
      if (isAddressNotAllowed(error)) return fail(error);
      const code = typeof error.code === 'string' ? error.code : 'ECONNECTION';
      fail(Object.assign(new Error(`Connection failed: ${error.message}`, { cause: error }), { code: 'ECONNECTION', originalCode: code }));
    };
    const onReady = () => {
      done();
      resolve(implicitTls ? { connection: socket, secured: true } : { connection: socket });
    };
    socket.once(ready, onReady);
    socket.on('error', onError);
  });
}

function smtpError(error: unknown, signal?: AbortSignal): DeliveryError {
  if (isAddressNotAllowed(error)) return addressNotAllowed('smtp', error);
  const e = (error ?? {}) as NodemailerError;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const reply = typeof e.response === 'string' ? e.response.slice(0, 200) : undefined;
  const extra = {
    ...(responseCode !== undefined ? { status: responseCode } : {}),
    ...(code !== undefined ? { providerCode: code } : {}),
  };
  if (code === 'EABORT' || signal?.aborted) {
    return deliveryUnavailable('smtp', 'Sending by SMTP was cancelled', { ...extra, aborted: true }, error);
  }
  if (responseCode !== undefined) {
    // RFC 5321: 4yz is transient, 5yz permanent; nodemailer works this out as `permanent`.
    const permanent = e.permanent ?? (responseCode >= 500 && responseCode !== 503);
    const what = code === 'EAUTH' ? 'refused the login' : 'refused the message';
    const text = `The SMTP server ${what} (${responseCode}${reply ? `: ${reply}` : ''})`;
    return permanent ? deliveryFailed('smtp', text, extra, error) : deliveryUnavailable('smtp', text, extra, error);
  }
  const causeCode = certificateCode(error);
  if (causeCode) {
    return deliveryFailed('smtp', `The SMTP server's certificate was not accepted (${causeCode})`, { ...extra, reason: 'certificate' }, error);
  }
  if (code === 'ETIMEDOUT') return deliveryUnavailable('smtp', 'The SMTP server did not answer in time', { ...extra, timeout: true }, error);
  if (code !== undefined && TRANSIENT_CODES.has(code)) {
    const original = (e as { originalCode?: unknown }).originalCode;
    const detail = typeof original === 'string' ? original : code;
    return deliveryUnavailable('smtp', `The SMTP server could not be reached (${detail})`, extra, error);
  }
  // EAUTH/ENOAUTH without a reply, ETLS, EREQUIRETLS, ECONFIG, EENVELOPE, ...: configuration.
  const message = error instanceof Error ? error.message : String(error);
  return deliveryFailed('smtp', `Sending by SMTP failed: ${message}`, extra, error);
}

function certificateCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    // nodemailer keeps the socket's own code in `originalCode` and puts ESOCKET in `code`.
    for (const candidate of [(e as { originalCode?: unknown }).originalCode, (e as NodeJS.ErrnoException).code]) {
      if (typeof candidate === 'string' && CERTIFICATE_CODE.test(candidate)) return candidate;
    }
  }
  return undefined;
}
