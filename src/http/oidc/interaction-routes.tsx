import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Interaction, InteractionResults } from 'oidc-provider';
import { isTwofoldError } from '../../core/errors.js';
import type { AuthenticationRequest } from '../../core/oidc.js';
import { OIDC_SCOPES, loginClaims, nextStep } from '../../core/oidc.js';
import type { Services } from '../../services/index.js';
import { sessionActor } from '../../services/index.js';
import type { OidcClientView } from '../../services/oidc-clients.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import { EnrolCodePage } from '../../ui/pages/enrol-code.js';
import { EnrolTotpPage } from '../../ui/pages/enrol-totp.js';
import { BackupCodesContinuePage, ConsentPage, ContinuePage, OidcEnrolPage, OidcKeyRequiredPage, OidcMessagePage, SCOPE_LABELS } from '../../ui/pages/oidc.js';
import type { PageKit } from '../page-kit.js';
import type { CookieSettings } from '../request-context.js';
import { clearSessionCookie, requestMeta, setSessionCookie } from '../request-context.js';
import { pageStatus, userMessage } from '../pages/messages.js';
import type { OidcProviderHandle } from './mount.js';
import { OIDC_PATHS } from './provider.js';

type Form = Record<string, string | undefined>;
const formBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } } as const;
const uidParams = { type: 'object', required: ['uid'], additionalProperties: false, properties: { uid: { type: 'string', minLength: 1, maxLength: 64 } } } as const;
const uidAndIdParams = {
  type: 'object',
  required: ['uid', 'id'],
  additionalProperties: false,
  properties: { uid: { type: 'string', minLength: 1, maxLength: 64 }, id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/** Claims an app may ask for by name (the claims parameter), and the scope that covers each. */
const CLAIM_SCOPES: Record<string, string> = { email: 'email', email_verified: 'email', name: 'profile', zoneinfo: 'profile' };

interface Pending {
  uid: string;
  client: OidcClientView;
  /** The provider's record of the authorization request waiting for us. */
  details: Interaction;
  /** Scopes to grant: asked for, allowed for the client, known here. */
  scopes: string[];
  /** Individually requested claims (claims parameter) the granted scopes cover. */
  claims: string[];
  request: AuthenticationRequest;
}

/**
 * The pages between an app's authorization request and its code. The person signs in, steps up
 * or re-authenticates on Twofold's own pages (so every policy, lockout and trust rule applies),
 * each of which brings them back here; once their session proves what the app asked for, and
 * they have agreed to share what it asks, the provider is told and the browser goes on to the app.
 */
export function oidcInteractionRoutes(app: FastifyInstance, services: Services, cookies: CookieSettings, kit: PageKit, handle: OidcProviderHandle): void {
  const here = (uid: string) => `${OIDC_PATHS.interaction}/${encodeURIComponent(uid)}`;
  /** Where our pages send the person back: after a form, so the last step must not be a redirect chain to the app. */
  const back = (uid: string) => `${here(uid)}?back=1`;

  const problem = (request: FastifyRequest, reply: FastifyReply, status: number, text: string) =>
    kit.html(reply.code(status), <OidcMessagePage chrome={kit.chrome(request, reply, 'Sign-in stopped')} heading="This sign-in cannot continue" text={text} link={{ href: '/account', label: 'Go to your account' }} />);

  /** The pending authorization for this browser, or null after answering with why there is none. */
  async function pending(request: FastifyRequest<{ Params: { uid: string } }>, reply: FastifyReply): Promise<Pending | null> {
    const { provider, storage } = await handle.current();
    let details: Pending['details'];
    try {
      details = await provider.interactionDetails(request.raw, reply.raw);
    } catch {
      await problem(request, reply, 400, 'This sign-in request has expired or was opened in another browser. Go back to the app and sign in again.');
      return null;
    }
    if (details.uid !== request.params.uid) {
      await problem(request, reply, 400, 'This sign-in request has expired or was opened in another browser. Go back to the app and sign in again.');
      return null;
    }
    const client = await services.oidcClients.find(String(details.params.client_id ?? ''));
    if (!client) {
      await problem(request, reply, 400, 'The app that sent you here is no longer registered.');
      return null;
    }
    const params = details.params as Record<string, unknown>;
    const requestedClaims = claimsParameter(params.claims);
    const claimScopes = requestedClaims.map((c) => CLAIM_SCOPES[c]).filter((s): s is string => s !== undefined);
    const asked = new Set([...String(params.scope ?? '').split(' '), ...claimScopes]);
    const scopes: string[] = OIDC_SCOPES.filter((s) => asked.has(s) && client.scopes.includes(s));
    const prompts = String(params.prompt ?? '').split(' ');
    const maxAge = params.max_age === undefined ? undefined : Number(params.max_age);
    const essentialAcr = acrFromClaims(params.claims);
    return {
      uid: details.uid,
      client,
      details,
      scopes,
      claims: requestedClaims.filter((c) => scopes.includes(CLAIM_SCOPES[c] ?? '')),
      request: {
        promptLogin: prompts.includes('login'),
        maxAgeSeconds: maxAge !== undefined && Number.isFinite(maxAge) && maxAge >= 0 ? maxAge : undefined,
        acrValues: [...String(params.acr_values ?? '').split(' ').filter((v) => v !== ''), ...essentialAcr],
        clientRequiresTwoFactor: client.requireTwoFactor,
        startedAt: (await storage.createdAt('Interaction', details.uid)) ?? services.clock(),
      },
    };
  }

  /** An app registered by one organisation signs in only that organisation's tree, unless it is open to everyone. */
  const refuseOutsider = (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, p: Pending, afterForm: boolean) =>
    refuse(request, reply, auth, p, 'This app only signs in people of the organisation that registered it.', afterForm, 'outside_audience');

  /** Tells the provider how the person signed in and what they granted; the browser goes on to the app. */
  async function finish(request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, p: Pending, afterForm: boolean) {
    if (!(await services.oidcSignIn.admits(p.client, auth.user))) return refuseOutsider(request, reply, auth, p, afterForm);
    const { provider } = await handle.current();
    const login = loginClaims(services.oidcSignIn.proofsOf(auth), p.request.acrValues);
    const existing = p.details.grantId ? await provider.Grant.find(p.details.grantId) : undefined;
    const grant = existing && existing.accountId === auth.user.id && existing.clientId === p.client.id ? existing : new provider.Grant({ accountId: auth.user.id, clientId: p.client.id });
    grant.addOIDCScope(p.scopes.join(' '));
    if (p.claims.length > 0) grant.addOIDCClaims(p.claims);
    const grantId = await grant.save();
    const result: InteractionResults = { login: { accountId: auth.user.id, acr: login.acr, amr: login.amr, ts: login.authTime, remember: true }, consent: { grantId } };
    const returnTo = await provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: false });
    await services.oidcSignIn.recordAuthorization(auth.user, p.client.id, { granted: true, acr: login.acr, amr: login.amr, scopes: p.scopes }, requestMeta(request));
    return continueTo(request, reply, p, returnTo, afterForm);
  }

  /** The app gets `access_denied` with `reason` as its description; the refusal is audited. */
  async function refuse(request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, p: Pending, reason: string, afterForm = true, refusal?: string) {
    const { provider } = await handle.current();
    const returnTo = await provider.interactionResult(request.raw, reply.raw, { error: 'access_denied', error_description: reason }, { mergeWithLastSubmission: false });
    await services.oidcSignIn.recordAuthorization(auth.user, p.client.id, { granted: false, reason, ...(refusal ? { refusal } : {}) }, requestMeta(request));
    return continueTo(request, reply, p, returnTo, afterForm);
  }

  function continueTo(request: FastifyRequest, reply: FastifyReply, p: Pending, returnTo: string, afterForm: boolean) {
    if (!afterForm) return reply.redirect(returnTo, 303);
    reply.header('Refresh', `0;url=${returnTo}`);
    return kit.html(reply, <ContinuePage chrome={kit.chrome(request, reply, `Continue to ${p.client.name}`)} appName={p.client.name} href={returnTo} />);
  }

  /** Where the person stands: sent on to prove more, shown the enrolment or consent page, or finished. */
  async function proceed(request: FastifyRequest<{ Params: { uid: string } }>, reply: FastifyReply, p: Pending, afterForm: boolean) {
    const auth = request.auth;
    if (!auth) return reply.redirect(`/sign-in?return_to=${encodeURIComponent(back(p.uid))}`, 303);
    // Before anything else is asked of them: someone this app may not sign in is sent back to it.
    if (!(await services.oidcSignIn.admits(p.client, auth.user))) return refuseOutsider(request, reply, auth, p, afterForm);
    const holdsFactor = await services.oidcSignIn.holdsFactor(auth.user.id);
    const step = nextStep(p.request, services.oidcSignIn.proofsOf(auth), holdsFactor, services.clock());
    if (step.step === 'reauthenticate') return reply.redirect(`/reauthenticate?next=${encodeURIComponent(back(p.uid))}&ask=${step.ask}`, 303);
    if (step.step === 'enrol') return renderEnrol(request, reply, p);
    if (step.step === 'key') return kit.html(reply, <OidcKeyRequiredPage chrome={kit.chrome(request, reply, 'Use a security key or passkey')} appName={p.client.name} action={`${here(p.uid)}/key`} cancelAction={`${here(p.uid)}/cancel`} />);
    if (!(await services.oidcSignIn.consentCovers(auth.user.id, p.client.id, p.scopes))) {
      const view = { appName: p.client.name, account: auth.user.email, scopes: p.scopes.map((scope) => ({ scope, label: SCOPE_LABELS[scope] ?? scope })), action: `${here(p.uid)}/consent` };
      return kit.html(reply, <ConsentPage chrome={kit.chrome(request, reply, `Sign in to ${p.client.name}`)} view={view} />);
    }
    return finish(request, reply, auth, p, afterForm);
  }

  const renderEnrol = (request: FastifyRequest, reply: FastifyReply, p: Pending, error?: string) =>
    kit.html(
      reply,
      <OidcEnrolPage chrome={kit.chrome(request, reply, 'Set up two-step verification')} appName={p.client.name} action={`${here(p.uid)}/enrol/totp`} cancelAction={`${here(p.uid)}/cancel`} error={error} />,
    );

  app.get<{ Params: { uid: string }; Querystring: { back?: string } }>(
    `${OIDC_PATHS.interaction}/:uid`,
    { schema: { hide: true, params: uidParams, querystring: { type: 'object', properties: { back: { type: 'string', maxLength: 8 } } } } },
    async (request, reply) => {
      const p = await pending(request, reply);
      if (!p) return reply;
      return proceed(request, reply, p, request.query.back === '1');
    },
  );

  app.post<{ Params: { uid: string }; Body: Form }>(`${OIDC_PATHS.interaction}/:uid/consent`, { schema: { hide: true, params: uidParams, body: formBody } }, async (request, reply) => {
    const p = await pending(request, reply);
    if (!p) return reply;
    const auth = request.auth;
    if (!auth) return reply.redirect(`/sign-in?return_to=${encodeURIComponent(back(p.uid))}`, 303);
    if (request.body.decision !== 'allow') return refuse(request, reply, auth, p, 'The person declined to sign in to this app.');
    // Consent is only taken from someone the request is ready for: anything still missing comes first.
    const step = nextStep(p.request, services.oidcSignIn.proofsOf(auth), await services.oidcSignIn.holdsFactor(auth.user.id), services.clock());
    if (step.step !== 'ready') return proceed(request, reply, p, true);
    await services.oidcSignIn.recordConsent(auth.user, p.client.id, p.scopes, requestMeta(request));
    return finish(request, reply, auth, p, true);
  });

  // The app wants a key and this session proved none: the person signs in again, with a key
  // (a passkey, or password and key), and comes back here to finish.
  app.post<{ Params: { uid: string }; Body: Form }>(`${OIDC_PATHS.interaction}/:uid/key`, { schema: { hide: true, params: uidParams, body: formBody } }, async (request, reply) => {
    const p = await pending(request, reply);
    if (!p) return reply;
    if (request.auth) {
      await services.signOut.signOut(request.auth.user, request.auth.session, requestMeta(request));
      clearSessionCookie(reply, cookies);
    }
    return reply.redirect(`/sign-in?return_to=${encodeURIComponent(back(p.uid))}`, 303);
  });

  app.post<{ Params: { uid: string }; Body: Form }>(`${OIDC_PATHS.interaction}/:uid/cancel`, { schema: { hide: true, params: uidParams, body: formBody } }, async (request, reply) => {
    const p = await pending(request, reply);
    if (!p) return reply;
    if (!request.auth) return reply.redirect(`/sign-in?return_to=${encodeURIComponent(back(p.uid))}`, 303);
    return refuse(request, reply, request.auth, p, 'The person did not set up two-step verification, which this app requires.');
  });

  // An app requires a second factor and the person has none: an authenticator is set up here,
  // with the same enrolment service as the security page, and proving it elevates the session.
  app.post<{ Params: { uid: string }; Body: Form }>(`${OIDC_PATHS.interaction}/:uid/enrol/totp`, { schema: { hide: true, params: uidParams, body: formBody } }, async (request, reply) => {
    const p = await pending(request, reply);
    if (!p) return reply;
    const auth = request.auth;
    if (!auth || (await services.oidcSignIn.holdsFactor(auth.user.id))) return reply.redirect(here(p.uid), 303);
    try {
      const enrolment = await services.factors.startTotpEnrolment(sessionActor(auth), request.body.label, requestMeta(request));
      return kit.html(
        reply,
        <EnrolTotpPage chrome={kit.chrome(request, reply, 'Add an authenticator app')} enrolment={enrolment} confirmAction={`${here(p.uid)}/enrol/${enrolment.id}/confirm`} cancelHref={here(p.uid)} />,
      );
    } catch (error) {
      const message = userMessage(error);
      return renderEnrol(request, reply.code(pageStatus(error)), p, message);
    }
  });

  app.post<{ Params: { uid: string; id: string }; Body: Form }>(
    `${OIDC_PATHS.interaction}/:uid/enrol/:id/confirm`,
    { schema: { hide: true, params: uidAndIdParams, body: formBody } },
    async (request, reply) => {
      const p = await pending(request, reply);
      if (!p) return reply;
      const auth = request.auth;
      if (!auth) return reply.redirect(`/sign-in?return_to=${encodeURIComponent(back(p.uid))}`, 303);
      try {
        const { token, backupCodes } = await services.oidcSignIn.confirmTotp(auth, request.params.id, request.body.code ?? '', requestMeta(request));
        setSessionCookie(reply, cookies, token);
        if (backupCodes.length === 0) return reply.redirect(back(p.uid), 303);
        const intro = `Two-step verification is on. Keep these codes in case you cannot get a code, then continue to ${p.client.name}.`;
        return kit.html(reply, <BackupCodesContinuePage chrome={kit.chrome(request, reply, 'Backup codes')} codes={backupCodes} intro={intro} continueHref={here(p.uid)} continueLabel={`Continue to ${p.client.name}`} />);
      } catch (error) {
        const message = userMessage(error);
        reply.code(pageStatus(error));
        // A vanished or expired enrolment starts over; a wrong or early code stays on the code page.
        if (isTwofoldError(error) && (error.kind === 'not_found' || error.kind === 'gone' || error.kind === 'conflict')) return renderEnrol(request, reply, p, message);
        const view = {
          heading: 'Confirm your authenticator app',
          channel: 'totp' as const,
          confirmAction: `${here(p.uid)}/enrol/${request.params.id}/confirm`,
          hidden: {},
          submitLabel: 'Turn on and continue',
          cancel: { href: here(p.uid), label: 'Start again' },
        };
        return kit.html(reply, <EnrolCodePage chrome={kit.chrome(request, reply, view.heading)} view={view} error={message} />);
      }
    },
  );
}

/** Claim names requested through the claims parameter (id_token and userinfo members). */
function claimsParameter(value: unknown): string[] {
  const parsed = parseClaims(value);
  if (!parsed) return [];
  const names = new Set<string>();
  for (const member of [parsed.id_token, parsed.userinfo]) {
    if (member && typeof member === 'object') for (const name of Object.keys(member)) names.add(name);
  }
  return [...names].filter((n) => CLAIM_SCOPES[n] !== undefined);
}

/** Essential acr values asked for through the claims parameter. */
function acrFromClaims(value: unknown): string[] {
  const acr = (parseClaims(value)?.id_token as Record<string, unknown> | undefined)?.acr as { essential?: unknown; value?: unknown; values?: unknown } | undefined;
  if (!acr || typeof acr !== 'object' || acr.essential !== true) return [];
  const values = Array.isArray(acr.values) ? acr.values : acr.value !== undefined ? [acr.value] : [];
  return values.filter((v): v is string => typeof v === 'string');
}

function parseClaims(value: unknown): Record<string, unknown> | null {
  if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  if (typeof value !== 'string' || value === '') return null;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
