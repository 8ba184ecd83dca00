import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services/index.js';
import type { ReauthProof } from '../../services/reauthentication.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import type { ReauthView } from '../../ui/pages/reauthenticate.js';
import { ReauthenticatePage } from '../../ui/pages/reauthenticate.js';
import { assertFormToken } from '../csrf.js';
import { describeError } from '../errors.js';
import type { PageKit } from '../page-kit.js';
import type { CookieSettings } from '../request-context.js';
import { requestMeta, setSessionCookie } from '../request-context.js';
import { safeLocalPath } from '../return-to.js';
import { userMessage } from './pages-auth.js';

type Form = Record<string, string | undefined>;
const formBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } } as const;

export const AFTER_REAUTH_DEFAULT = '/account';

/**
 * Where a confirmed user may be sent: a path on this site and nothing else (see safeLocalPath);
 * anything unusual falls back to the account page.
 */
export function safeNext(next: unknown): string {
  return safeLocalPath(next) ?? AFTER_REAUTH_DEFAULT;
}

const METHOD_LABELS: Record<string, string> = { totp: 'Authenticator app', sms: 'Text message', email: 'Email', backup_code: 'Backup code' };

/**
 * What an app's sign-in asks to be proven again (see oidc/interaction-routes.tsx): `all` is the
 * password and, when held, a code; `code` is a second factor alone (step-up).
 */
export type ReauthAsk = 'all' | 'code';

function reauthAskOf(value: unknown): ReauthAsk | undefined {
  return value === 'all' || value === 'code' ? value : undefined;
}

/**
 * What to ask for: whatever admin areas still miss (the password, and a current code when the
 * user holds a factor), and both when nothing is missing, unless `ask` names it. The code methods
 * are the held factors whose channel works now, plus backup codes while any are left.
 */
async function reauthView(services: Services, auth: AuthenticatedSession, next: string, selected?: string, ask?: ReauthAsk): Promise<ReauthView> {
  const [held, backup, catalogue, missing] = await Promise.all([
    services.factors.list(auth.user.id),
    services.backupCodes.status(auth.user.id),
    services.methods.forUser(auth.user),
    services.reauth.missingAdminProofs(auth.user, auth.session),
  ]);
  const usable = new Set(catalogue.filter((m) => m.available).map((m) => m.method as string));
  const methods: ReauthView['methods'] = [];
  const sendable: ReauthView['sendable'] = [];
  if (held.some((f) => f.type === 'totp')) methods.push({ method: 'totp', label: METHOD_LABELS.totp! });
  for (const method of ['sms', 'email'] as const) {
    const factor = held.find((f) => f.type === method);
    if (!factor || !usable.has(method)) continue;
    const to = factor.destination ? ` to ${factor.destination}` : '';
    methods.push({ method, label: `${METHOD_LABELS[method]!}${to}` });
    sendable.push({ method, label: `${method === 'sms' ? 'text message' : 'email'}${to}` });
  }
  if (backup.remaining > 0) methods.push({ method: 'backup_code', label: METHOD_LABELS.backup_code! });
  const nothingMissing = missing.length === 0;
  return {
    next,
    askPassword: ask ? ask === 'all' : nothingMissing || missing.includes('password'),
    askCode: held.length > 0 && (ask !== undefined || nothingMissing || missing.includes('second_factor')),
    methods,
    sendable,
    selected,
  };
}

/** Renders the confirmation page; admin areas use it too when a form arrives after the window closed. */
export async function renderReauthPage(
  services: Services,
  kit: PageKit,
  request: FastifyRequest,
  reply: FastifyReply,
  auth: AuthenticatedSession,
  next: string,
  message: { notice?: string | undefined; error?: string | undefined; selected?: string | undefined; ask?: ReauthAsk | undefined } = {},
): Promise<FastifyReply> {
  const view = await reauthView(services, auth, safeNext(next), message.selected, message.ask);
  return kit.html(reply, <ReauthenticatePage chrome={kit.chrome(request, reply, 'Confirm it is you')} view={view} notice={message.notice} error={message.error} />);
}

export function reauthPageRoutes(app: FastifyInstance, services: Services, cookies: CookieSettings, kit: PageKit): void {
  const signedIn = (request: FastifyRequest, reply: FastifyReply): AuthenticatedSession | null => {
    if (request.auth) return request.auth;
    void reply.redirect('/sign-in', 303);
    return null;
  };

  app.get<{ Querystring: { next?: string; method?: string; ask?: string } }>(
    '/reauthenticate',
    { schema: { hide: true, querystring: { type: 'object', properties: { next: { type: 'string', maxLength: 2048 }, method: { type: 'string', maxLength: 32 }, ask: { type: 'string', maxLength: 8 } } } } },
    async (request, reply) => {
      const auth = signedIn(request, reply);
      if (!auth) return reply;
      return renderReauthPage(services, kit, request, reply, auth, request.query.next ?? AFTER_REAUTH_DEFAULT, { selected: request.query.method, ask: reauthAskOf(request.query.ask) });
    },
  );

  app.post<{ Body: Form }>('/reauthenticate', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    assertFormToken(request, request.body._csrf);
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    const body = request.body;
    const next = safeNext(body.next);
    // Whatever the form asked for is checked together: admin areas want the password and a code at once.
    const proof: ReauthProof = {
      ...(body.password !== undefined ? { password: body.password } : {}),
      ...(body.code !== undefined ? { method: body.method ?? '', code: body.code } : {}),
    };
    try {
      const token = await services.reauth.reauthenticate(auth.user, auth.session, proof, requestMeta(request));
      setSessionCookie(reply, cookies, token);
      return reply.redirect(next, 303);
    } catch (error) {
      const text = userMessage(error);
      // Ask again for what was asked: the form sends exactly the fields it showed.
      const ask = body.code === undefined ? undefined : body.password === undefined ? 'code' : 'all';
      return renderReauthPage(services, kit, request, reply.code(describeError(error).status), auth, next, { error: text, selected: body.method, ask });
    }
  });

  app.post<{ Body: Form }>('/reauthenticate/send', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    assertFormToken(request, request.body._csrf);
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    const method = request.body.method ?? '';
    const next = safeNext(request.body.next);
    try {
      const sent = await services.reauth.sendCode(auth, method, requestMeta(request));
      return renderReauthPage(services, kit, request, reply, auth, next, { notice: `We sent a code to ${sent.sentTo}. Enter it below.`, selected: method });
    } catch (error) {
      const text = userMessage(error);
      const { status, retryAfter } = describeError(error);
      if (retryAfter !== undefined) reply.header('Retry-After', String(retryAfter));
      return renderReauthPage(services, kit, request, reply.code(status), auth, next, { error: text, selected: method });
    }
  });
}
