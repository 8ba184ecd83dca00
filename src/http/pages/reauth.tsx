import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services/index.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import type { ReauthView } from '../../ui/pages/reauthenticate.js';
import { ReauthenticatePage } from '../../ui/pages/reauthenticate.js';
import type { PageKit } from '../page-kit.js';
import { safeLocalPath } from '../return-to.js';

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

export function reauthAskOf(value: unknown): ReauthAsk | undefined {
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
