import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Checks every reply of a route that declares response schemas, in every suite that starts a
 * test server (see server.ts), so the OpenAPI document cannot drift from what is sent:
 *
 * - an API route declares response schemas, and the status has one (a success or an error the
 *   route did not declare is a problem);
 * - serialising through the schema changed nothing: a field the schema does not name (dropped
 *   by fast-json-stringify) or a value of another type (coerced) is a problem;
 * - an error's code is one of those the route lists for that status (`x-error-codes`).
 *
 * Problems are collected, not thrown, so the request still gets its answer; the server's
 * `close()` fails with the list.
 */
export function installReplyCheck(app: FastifyInstance, problems: string[]): void {
  const unserialised = new WeakMap<FastifyRequest, string>();

  app.addHook('preSerialization', async (request, _reply, payload) => {
    if (responseSchemas(request)) unserialised.set(request, JSON.stringify(payload));
    return payload;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const schemas = responseSchemas(request);
    const route = request.routeOptions.url;
    const where = `${request.method} ${route} → ${reply.statusCode}`;
    if (!schemas) {
      if (route?.startsWith('/api/') && route !== '/api/v1/openapi.json') problems.push(`${where}: an API route without response schemas`);
      return payload;
    }
    const schema = schemas[String(reply.statusCode)] ?? schemas[`${String(reply.statusCode)[0]}xx`];
    if (!schema) {
      problems.push(`${where}: no response schema for this status`);
      return payload;
    }
    const before = unserialised.get(request);
    if (before !== undefined && typeof payload === 'string') {
      const sent: unknown = JSON.parse(payload);
      const meant: unknown = JSON.parse(before);
      if (!isDeepStrictEqual(sent, meant)) problems.push(`${where}: the schema changed the reply\n  meant: ${before.slice(0, 2000)}\n  sent:  ${payload.slice(0, 2000)}`);
      if (reply.statusCode >= 400) {
        const code = (meant as { error?: { code?: unknown } }).error?.code;
        const declared = schema['x-error-codes'];
        if (Array.isArray(declared) && !declared.includes(code)) problems.push(`${where}: error code ${String(code)} is not among those declared (${declared.join(', ')})`);
      }
    }
    return payload;
  });
}

type ResponseSchemas = Record<string, Record<string, unknown> | undefined>;

function responseSchemas(request: FastifyRequest): ResponseSchemas | undefined {
  const schema = request.routeOptions.schema as { response?: ResponseSchemas } | undefined;
  return schema?.response;
}
