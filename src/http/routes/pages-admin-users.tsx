import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidInput, isTwofoldError } from '../../core/errors.js';
import { sessionActor } from '../../services/actor.js';
import type { Services } from '../../services/index.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import type { BackupCodesEmail } from '../../services/backup-codes.js';
import type { AdminUserView, RevealedCodes } from '../../ui/pages/admin-user.js';
import { AdminUserPage } from '../../ui/pages/admin-user.js';
import type { InviteForm } from '../../ui/pages/admin-users.js';
import { AdminUsersPage } from '../../ui/pages/admin-users.js';
import { MessagePage } from '../../ui/pages/message.js';
import { describeError } from '../errors.js';
import type { PageKit } from '../page-kit.js';
import { requestMeta } from '../request-context.js';
import { idParams } from '../schemas.js';
import { userMessage } from '../pages/messages.js';
import { adminFormBody, adminPages } from '../pages/admin.js';

type Form = Record<string, string | undefined>;
type Message = { notice?: string | undefined; error?: string | undefined };

const usersQuery = {
  type: 'object',
  properties: {
    org: { type: 'string', maxLength: 64 },
    q: { type: 'string', maxLength: 254 },
    filter: { type: 'string', maxLength: 16 },
    after: { type: 'string', maxLength: 254 },
  },
} as const;

/**
 * Admin user management in the browser: who in the admin's organisations has two-step
 * verification, and the recovery actions (reset factors, disable, show or regenerate backup
 * codes). There is deliberately no way to enrol a factor for someone else.
 */
export function adminUserPageRoutes(app: FastifyInstance, services: Services, kit: PageKit): void {
  const admin = adminPages(services, kit);
  const userPath = (id: string) => `/admin/users/${encodeURIComponent(id)}`;
  const backToUsers = { href: '/admin/users', label: 'Back to users' };

  app.get<{ Querystring: Form }>('/admin/users', { schema: { hide: true, querystring: usersQuery } }, async (request, reply) => {
    const auth = await admin.guard(request, reply, request.url);
    if (!auth) return reply;
    return renderList(request, reply, auth, request.query);
  });

  /** The users page for a query; with `invite`, the invite form shows what was entered and why it was refused. */
  const renderList = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, q: Form, invite?: InviteForm) => {
    const orgId = q.org || auth.user.org_id;
    const query = (q.q ?? '').trim();
    const noTwoFactor = q.filter === 'no_2fa';
    let page;
    try {
      page = await services.userAdmin.list(sessionActor(auth), { orgId, query: query || undefined, withoutTwoFactor: noTwoFactor, after: q.after || undefined });
    } catch (error) {
      return admin.problem(request, reply, error, backToUsers);
    }
    const orgs = await admin.managedOrganisations(auth);
    const orgNames = new Map(orgs.map((o) => [o.id, o.name]));
    const link = (after: string | null) => {
      const params = new URLSearchParams({ org: orgId });
      if (query) params.set('q', query);
      if (noTwoFactor) params.set('filter', 'no_2fa');
      if (after) params.set('after', after);
      return `/admin/users?${params.toString()}`;
    };
    const view = {
      organisations: orgs,
      orgId,
      orgName: orgNames.get(orgId) ?? 'this organisation',
      query,
      noTwoFactor,
      users: page.users.map((u) => ({
        id: u.id,
        email: u.email,
        displayName: u.displayName,
        orgName: orgNames.get(u.orgId) ?? '',
        disabled: u.status === 'disabled',
        invited: u.status === 'invited',
        methods: u.methods,
        lastUsedAt: admin.when(auth, u.lastUsedAt),
        backupCodesLeft: u.backupCodesLeft,
        mustEnrol: u.mustEnrol,
      })),
      nextHref: page.next ? link(page.next) : null,
      firstHref: q.after ? link(null) : null,
    };
    return kit.html(reply, <AdminUsersPage chrome={admin.chrome(request, reply, 'Users')} view={view} invite={invite} />);
  };

  app.post<{ Body: Form }>('/admin/users/invite', { schema: { hide: true, body: adminFormBody } }, async (request, reply) => {
    const auth = await admin.guard(request, reply, '/admin/users');
    if (!auth) return reply;
    const form = { email: request.body.email ?? '', displayName: request.body.displayName ?? '', orgId: request.body.org || auth.user.org_id };
    let invited;
    try {
      invited = await services.invitations.invite(sessionActor(auth), form.orgId, { email: form.email, displayName: form.displayName || undefined }, requestMeta(request));
    } catch (error) {
      return renderList(request, reply.code(describeError(error).status), auth, { org: form.orgId }, { ...form, error: userMessage(error) });
    }
    const notice = invited.emailed
      ? `Invitation sent to ${invited.email}. The link works once and expires ${admin.when(auth, invited.expiresAt) ?? 'in 7 days'}.`
      : `${invited.email} was added, but the invitation email could not be sent. Check the email provider, then send a new invitation.`;
    return renderUser(request, reply, auth, invited.userId, { notice });
  });

  const loadUser = async (auth: AuthenticatedSession, userId: string): Promise<AdminUserView> => {
    const [detail, orgs] = await Promise.all([services.userAdmin.get(sessionActor(auth), userId), admin.managedOrganisations(auth)]);
    const overview = await services.rolesAdmin.overview(sessionActor(auth), detail.orgId);
    const heldRoles = new Set(detail.roles.map((r) => r.id));
    const heldGroups = new Set(detail.groups.map((g) => g.id));
    return {
      invited: detail.status === 'invited',
      edit: {
        orgId: detail.orgId,
        organisations: orgs,
        roles: overview.roles.map((r) => ({ id: r.id, name: r.name, held: heldRoles.has(r.id) })),
        groups: overview.groups.map((g) => ({ id: g.id, name: g.name, held: heldGroups.has(g.id) })),
      },
      id: detail.id,
      email: detail.email,
      displayName: detail.displayName,
      orgName: orgs.find((o) => o.id === detail.orgId)?.name ?? '',
      disabled: detail.status === 'disabled',
      self: detail.id === auth.user.id,
      mustEnrol: detail.mustEnrol,
      lastUsedAt: admin.when(auth, detail.lastUsedAt),
      backupCodesLeft: detail.backupCodesLeft,
      factors: detail.factors.map((f) => ({ id: f.id, type: f.type, label: f.label, destination: f.destination, lastUsedAt: admin.when(auth, f.lastUsedAt) })),
    };
  };

  const renderUser = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, userId: string, message: Message & { revealed?: RevealedCodes } = {}) => {
    const view = await loadUser(auth, userId);
    return kit.html(
      reply,
      <AdminUserPage chrome={admin.chrome(request, reply, view.displayName)} view={view} notice={message.notice} error={message.error} revealed={message.revealed} />,
    );
  };

  app.get<{ Params: { id: string } }>('/admin/users/:id', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const auth = await admin.guard(request, reply, request.url);
    if (!auth) return reply;
    try {
      return await renderUser(request, reply, auth, request.params.id);
    } catch (error) {
      return admin.problem(request, reply, error, backToUsers);
    }
  });

  /** A recovery action: guarded, then the user page again with the outcome, or with the refusal and its status. */
  const action = (
    path: string,
    run: (request: FastifyRequest<{ Body: Form; Params: { id: string } }>, auth: AuthenticatedSession) => Promise<Message & { revealed?: RevealedCodes }>,
  ) =>
    app.post<{ Body: Form; Params: { id: string } }>(`/admin/users/:id/${path}`, { schema: { hide: true, body: adminFormBody, params: idParams } }, async (request, reply) => {
      const auth = await admin.guard(request, reply, userPath(request.params.id));
      if (!auth) return reply;
      let outcome: Message & { revealed?: RevealedCodes };
      try {
        outcome = await run(request, auth);
      } catch (error) {
        if (isTwofoldError(error) && error.kind === 'not_found') return admin.problem(request, reply, error, backToUsers);
        const text = userMessage(error);
        return renderUser(request, reply.code(describeError(error).status), auth, request.params.id, { error: text });
      }
      return renderUser(request, reply, auth, request.params.id, outcome);
    });

  action('reset-factors', async (request, auth) => {
    if (request.body.confirm !== 'yes') {
      // Checked here too, not only by the browser: the checkbox is all that stands between a slip and a locked-out user.
      throw invalidInput('confirmation_required', 'Tick the box to confirm the reset; nothing was removed.');
    }
    const { removedFactors } = await services.userAdmin.resetFactors(sessionActor(auth), request.params.id, requestMeta(request));
    const what = removedFactors === 1 ? '1 sign-in method' : `${removedFactors} sign-in methods`;
    return { notice: `Reset: ${what}, the backup codes and trusted browsers were removed and every session ended. The user has been emailed.` };
  });

  action('disable', async (request, auth) => {
    await services.userAdmin.setDisabled(sessionActor(auth), request.params.id, true, requestMeta(request));
    return { notice: 'The account is disabled: sign-in is refused and its sessions have ended.' };
  });

  action('enable', async (request, auth) => {
    await services.userAdmin.setDisabled(sessionActor(auth), request.params.id, false, requestMeta(request));
    return { notice: 'The account is enabled again.' };
  });

  action('backup-codes/show', async (request, auth) => {
    const codes = await services.userAdmin.viewBackupCodes(sessionActor(auth), request.params.id, requestMeta(request));
    const left = codes.filter((c) => !c.used).length;
    return { notice: `${left} of ${codes.length} backup codes are unused.`, revealed: { kind: 'stored', codes } };
  });

  action('backup-codes', async (request, auth) => {
    const { codes, email } = await services.userAdmin.regenerateBackupCodes(sessionActor(auth), request.params.id, requestMeta(request));
    return { notice: `New backup codes were made; the old ones no longer work. The user has been emailed${emailedCopyNotice(email)}.`, revealed: { kind: 'new', codes } };
  });

  action('edit', async (request, auth) => {
    const body = request.body;
    const current = await services.userAdmin.get(sessionActor(auth), request.params.id);
    const orgId = body.org || current.orgId;
    const picked = (prefix: string) => Object.keys(body).filter((k) => k.startsWith(prefix) && body[k] === 'on').map((k) => k.slice(prefix.length));
    // The checkboxes list the current organisation's roles and groups: after a move they mean nothing there.
    const moving = orgId !== current.orgId;
    await services.userAdmin.update(
      sessionActor(auth),
      request.params.id,
      { displayName: body.displayName ?? current.displayName, orgId, ...(moving ? {} : { roleIds: picked('role_'), groupIds: picked('group_') }) },
      requestMeta(request),
    );
    return { notice: moving ? 'Saved. They moved organisation, so the roles and groups of the old one were removed.' : 'Saved.' };
  });

  action('invitation/resend', async (request, auth) => {
    const sent = await services.invitations.resend(sessionActor(auth), request.params.id, requestMeta(request));
    return { notice: sent.emailed ? `A new invitation was sent to ${sent.email}; the previous link no longer works.` : 'The new invitation email could not be sent. Check the email provider and try again.' };
  });

  app.post<{ Body: Form; Params: { id: string } }>('/admin/users/:id/invitation/revoke', { schema: { hide: true, body: adminFormBody, params: idParams } }, async (request, reply) => {
    const auth = await admin.guard(request, reply, userPath(request.params.id));
    if (!auth) return reply;
    try {
      await services.invitations.revoke(sessionActor(auth), request.params.id, requestMeta(request));
    } catch (error) {
      return admin.problem(request, reply, error, backToUsers);
    }
    return kit.html(reply, <MessagePage chrome={admin.chrome(request, reply, 'Invitation withdrawn')} heading="Invitation withdrawn" text="The link no longer works and the pending account was removed." link={backToUsers} />);
  });

  app.post<{ Body: Form; Params: { id: string } }>('/admin/users/:id/delete', { schema: { hide: true, body: adminFormBody, params: idParams } }, async (request, reply) => {
    const auth = await admin.guard(request, reply, userPath(request.params.id));
    if (!auth) return reply;
    try {
      if (request.body.confirm !== 'yes') throw invalidInput('confirmation_required', 'Tick the box to confirm; nothing was deleted.');
      await services.userAdmin.delete(sessionActor(auth), request.params.id, requestMeta(request));
    } catch (error) {
      if (isTwofoldError(error) && error.kind === 'not_found') return admin.problem(request, reply, error, backToUsers);
      return renderUser(request, reply.code(describeError(error).status), auth, request.params.id, { error: userMessage(error) });
    }
    return kit.html(reply, <MessagePage chrome={admin.chrome(request, reply, 'Account deleted')} heading="Account deleted" text="The account, its sessions, sign-in methods, backup codes, trusted browsers and devices are gone. The audit log keeps its id and email." link={backToUsers} />);
  });

  app.post<{ Body: Form; Params: { id: string; factorId: string } }>(
    '/admin/users/:id/factors/:factorId/remove',
    { schema: { hide: true, body: adminFormBody, params: { type: 'object', required: ['id', 'factorId'], additionalProperties: false, properties: { id: { type: 'string', maxLength: 64 }, factorId: { type: 'string', maxLength: 64 } } } } },
    async (request, reply) => {
      const auth = await admin.guard(request, reply, userPath(request.params.id));
      if (!auth) return reply;
      let notice: string;
      try {
        const { removed, remainingFactors } = await services.userAdmin.removeFactor(sessionActor(auth), request.params.id, request.params.factorId, requestMeta(request));
        notice = `${removed.label} was switched off and the user was signed out everywhere and emailed.${remainingFactors === 0 ? ' They have no method left: they set one up at their next sign-in.' : ''}`;
      } catch (error) {
        if (isTwofoldError(error) && error.kind === 'not_found' && error.code === 'user_not_found') return admin.problem(request, reply, error, backToUsers);
        return renderUser(request, reply.code(describeError(error).status), auth, request.params.id, { error: userMessage(error) });
      }
      return renderUser(request, reply, auth, request.params.id, { notice });
    },
  );
}

/** The admin learns whether the organisation's emailed copy of the codes went out, as the person would. */
function emailedCopyNotice(email: BackupCodesEmail): string {
  if (email.status === 'sent') return `; a copy of the codes went to ${email.to}`;
  if (email.status === 'unverified') return `; no copy of the codes was emailed, because ${email.to} is not verified`;
  if (email.status === 'failed') return `; the emailed copy of the codes to ${email.to} could not be sent`;
  return '';
}
