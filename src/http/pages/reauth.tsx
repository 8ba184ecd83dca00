import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services/index.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import type { ReauthView } from '../../ui/pages/reauthenticate.js';
import { ReauthenticatePage } from '../../ui/pages/reauthenticate.js';
import type { PageKit } from '../page-kit.js';
import { safeLocalPath } from '../../core/local-path.js';

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

/** The step-up view from the service, in words: labels name the method and where its code goes. */
async function reauthView(services: Services, auth: AuthenticatedSession, next: string, selected?: string, ask?: ReauthAsk, approval?: ReauthView['approval']): Promise<ReauthView> {
  const step = await services.reauth.stepUp(auth, { returnTo: next, ask });
  const to = (destination: string | null) => (destination ? ` to ${destination}` : '');
  // A key and a phone are not typed codes: each has its own form.
  const typed = step.codeMethods.filter((m) => m.method !== 'webauthn' && m.method !== 'push');
  const offersKey = step.askCode && step.codeMethods.some((m) => m.method === 'webauthn');
  // A fresh challenge for this session's step-up; the page left open past it asks again.
  const options = offersKey ? await services.reauth.webAuthnOptions(auth).catch(() => null) : null;
  return {
    next,
    askPassword: step.askPassword,
    askCode: step.askCode,
    methods: typed.map((m) => ({ method: m.method, label: `${METHOD_LABELS[m.method] ?? m.method}${to(m.destination)}` })),
    sendable: typed.filter((m) => m.sendable).map((m) => ({ method: m.method, label: `${m.method === 'sms' ? 'text message' : 'email'}${to(m.destination)}` })),
    selected,
    securityKeyOptions: options ? JSON.stringify(options) : undefined,
    approvers: step.approvers,
    approval,
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
  message: { notice?: string | undefined; error?: string | undefined; selected?: string | undefined; ask?: ReauthAsk | undefined; approval?: ReauthView['approval'] } = {},
): Promise<FastifyReply> {
  const view = await reauthView(services, auth, safeNext(next), message.selected, message.ask, message.approval);
  return kit.html(reply, <ReauthenticatePage chrome={kit.chrome(request, reply, 'Confirm it is you')} view={view} notice={message.notice} error={message.error} />);
}
