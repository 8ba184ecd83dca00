/**
 * A push service for the tests (RFC 8030): a node:http server that accepts push messages at
 * `/push/<id>` and keeps them, and a subscription whose keys the test holds (RFC 8291), so it
 * can decrypt what Twofold sent, as the phone's browser would.
 */
import type { ECDH } from 'node:crypto';
import { createECDH, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';

interface Ece {
  decrypt(buffer: Buffer, params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: Buffer }): Buffer;
}
const ece = createRequire(import.meta.url)('http_ece') as Ece;

export interface ReceivedPush {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface TestSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  /** Opens a message sent to this subscription (aes128gcm). */
  decrypt(body: Buffer): string;
}

export class TestPushService {
  readonly received: ReceivedPush[] = [];
  /** The status the next pushes are answered with (201 Created, as RFC 8030 says). */
  status = 201;
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<TestPushService> {
    const holder: { self?: TestPushService } = {};
    const server = createServer((req, res) => {
      const self = holder.self;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        self?.received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        res.statusCode = self?.status ?? 201;
        res.end();
        for (const wake of self?.waiters.splice(0) ?? []) wake();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    holder.self = new TestPushService(server, `http://127.0.0.1:${port}`);
    return holder.self;
  }

  subscription(id = randomBytes(6).toString('hex')): TestSubscription {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    return {
      endpoint: `${this.url}/push/${id}`,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
      decrypt: (body) => ece.decrypt(body, { version: 'aes128gcm', privateKey: ecdh, authSecret: auth }).toString('utf8'),
    };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
