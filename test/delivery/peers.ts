/**
 * Real network peers for the delivery tests: an SMTP server (smtp-server) and a plain node:http
 * server whose answers each test scripts. Both listen on 127.0.0.1, on a random port.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerOptions } from 'smtp-server';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

export interface HttpPeer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Answers with `handlers[i]` for the i-th request, and the last handler after that. */
export async function startHttpPeer(...handlers: Handler[]): Promise<HttpPeer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      const handler = handlers[Math.min(requests.length, handlers.length) - 1];
      void Promise.resolve(handler?.(recorded, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(status: number, body: unknown): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
}

/** Never answers: the client has to give up on its own. */
export const hang: Handler = () => undefined;

/** A port nothing listens on (bound once, then released). */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Accepts TCP connections and never says anything (an SMTP server that never greets). */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface ReceivedMail {
  mailFrom: string;
  rcptTo: string[];
  user?: string;
  raw: string;
}

export interface SmtpPeer {
  port: number;
  received: ReceivedMail[];
  close(): Promise<void>;
}

/**
 * An SMTP server on 127.0.0.1. With `credentials`, AUTH PLAIN/LOGIN is required and checked
 * (allowed without TLS); `rejectRecipient` answers RCPT TO with that reply code.
 */
export async function startSmtpPeer(
  options: { credentials?: { user: string; pass: string }; rejectRecipient?: number; server?: SMTPServerOptions } = {},
): Promise<SmtpPeer> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    logger: false,
    disabledCommands: options.server?.secure ? [] : ['STARTTLS'],
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: !options.credentials,
    allowInsecureAuth: true,
    socketTimeout: 5_000,
    closeTimeout: 1_000,
    ...options.server,
    onAuth(auth, _session, callback) {
      const c = options.credentials;
      if (c && auth.username === c.user && auth.password === c.pass) return callback(null, { user: auth.username });
      const error = Object.assign(new Error('Invalid username or password'), { responseCode: 535 });
      return callback(error);
    },
    onRcptTo(_address, _session, callback) {
      if (options.rejectRecipient) {
        const code = options.rejectRecipient;
        return callback(Object.assign(new Error(code >= 500 ? 'No such user here' : 'Try again later'), { responseCode: code }));
      }
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom;
        received.push({
          mailFrom: from ? from.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          ...(typeof session.user === 'string' ? { user: session.user } : {}),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  server.on('error', () => undefined); // a client hanging up mid-handshake is part of some tests
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface ParsedMail {
  headers: Map<string, string>;
  text?: string;
  html?: string;
}

/** Just enough MIME to read back what nodemailer writes: headers, multipart/alternative, QP and base64. */
export function parseMail(raw: string): ParsedMail {
  const { headers, body } = splitPart(raw);
  const result: ParsedMail = { headers };
  collect(headers, body, result);
  return result;
}

function splitPart(raw: string): { headers: Map<string, string>; body: string } {
  const normalised = raw.replace(/\r\n/g, '\n');
  const end = normalised.indexOf('\n\n');
  const head = end < 0 ? normalised : normalised.slice(0, end);
  const body = end < 0 ? '' : normalised.slice(end + 2);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function collect(headers: Map<string, string>, body: string, into: ParsedMail): void {
  const type = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (type.toLowerCase().startsWith('multipart/') && boundary) {
    const parts = body.split(`--${boundary}`).slice(1);
    for (const part of parts) {
      if (part.startsWith('--')) break;
      const sub = splitPart(part.replace(/^\n/, ''));
      collect(sub.headers, sub.body, into);
    }
    return;
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  let decoded = body.replace(/\n$/, '');
  if (encoding === 'quoted-printable') {
    decoded = Buffer.from(
      decoded.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8');
  } else if (encoding === 'base64') {
    decoded = Buffer.from(decoded.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  if (type.toLowerCase().startsWith('text/html')) into.html = decoded;
  else if (type.toLowerCase().startsWith('text/plain')) into.text = decoded;
}

/** Runs `fn` and returns how long it took, in ms. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const start = performance.now();
  const [result] = await Promise.allSettled([fn()]);
  return { ms: performance.now() - start, result: result as PromiseSettledResult<T> };
}
