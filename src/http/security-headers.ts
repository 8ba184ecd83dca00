import helmet from '@fastify/helmet';
import type { FastifyHelmetOptions } from '@fastify/helmet';
import Fastify from 'fastify';

/**
 * The headers helmet sets for a configuration, worked out once at start-up. @fastify/helmet
 * builds a new helmet middleware from its options on every request (about 1.5% of a session
 * check under load); the answer never changes for a given configuration, so the app sets these
 * from a constant instead. Found by asking helmet itself (a throwaway instance with and without
 * the plugin, one injected request each), so the headers are exactly helmet's, whatever its
 * version adds.
 */
export async function securityHeadersOf(options: FastifyHelmetOptions): Promise<Readonly<Record<string, string>>> {
  const headersOf = async (withHelmet: boolean) => {
    const probe = Fastify({ logger: false });
    if (withHelmet) await probe.register(helmet, options);
    probe.get('/', async () => 'probe');
    const res = await probe.inject({ method: 'GET', url: '/' });
    await probe.close();
    return res.headers;
  };
  const plain = await headersOf(false);
  const secured = await headersOf(true);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(secured)) {
    if (value === undefined || name in plain) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return Object.freeze(headers);
}
