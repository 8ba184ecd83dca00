import type { Bundle, BundleValue } from '../../core/bundle.js';
import { ENTRY_KEY_PATTERN, MAX_BUNDLE_BYTES, applyChange, bundleDigest, canonicalJson } from '../../core/bundle.js';
import { conflict, forbidden, invalidInput, notFound } from '../../core/errors.js';
import { deploys } from '../../store/index.js';
import { recordAudit } from '../audit-log.js';
import type { RequestMeta, ServiceDeps } from '../context.js';
import type { DeployAccess } from './access.js';
import type { DeployApprovals } from './approval.js';
import type { Deployments } from './deploy.js';
import type { DeployActor, DeployPreview, DeploymentView, PendingChangeView } from './types.js';
import { NO_TARGET, actorRef } from './types.js';

/** The pending bundle: changes added to it, and the preview of what Deploy Now would send. */
export class DeployChanges {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly access: DeployAccess,
    private readonly approvals: DeployApprovals,
    private readonly deployments: Deployments,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  async addChange(actor: DeployActor, targetId: string, input: { key: string; value?: unknown; summary: string }, meta: RequestMeta | null): Promise<{ pendingVersion: number; digest: string; deployment: DeploymentView | null }> {
    const target = await this.access.readableTarget(actor, targetId, 'changes:write');
    if (actor.kind === 'user' && !(await this.access.mayChange(actor.user, target))) throw forbidden('not_deployer', 'Only admins and deployers of this target can change it.');
    if (!ENTRY_KEY_PATTERN.test(input.key)) throw invalidInput('entry_key_invalid', 'An entry key is 1-200 letters, digits and . _ : / - characters.');
    const summary = input.summary.trim();
    if (summary === '' || summary.length > 200 || /[\r\n]/.test(summary)) throw invalidInput('summary_invalid', 'A change needs a one-line summary of at most 200 characters.');
    const value = input.value === undefined ? null : (input.value as BundleValue);
    const author = actorRef(actor);
    const user = actor.kind === 'user' ? actor.user : null;
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await deploys.findTarget(this.db, targetId);
      if (!current) throw notFound(NO_TARGET.code, NO_TARGET.message);
      const next = applyChange(current.pending_bundle, input.key, value);
      const serialised = canonicalJson(next);
      if (Buffer.byteLength(serialised) > MAX_BUNDLE_BYTES) throw invalidInput('bundle_too_large', 'The bundle would exceed 1 MiB.');
      const digest = bundleDigest(next);
      const pendingVersion = current.pending_version + 1;
      // Automatic targets go live at once; the author is the approver and no code is asked. The
      // change and its deployment share one transaction, so a concurrent change can never leave
      // a recorded change behind with a refused deployment.
      const approval = current.timing === 'automatic' ? await this.approvals.prepare(current, digest, user, 'none', author) : null;
      const applied = await this.db.transaction().execute(async (trx) => {
        if (!(await deploys.swapPendingBundle(trx, targetId, current.pending_version, next))) return null;
        const now = this.deps.clock();
        await deploys.insertChange(trx, { target_id: targetId, entry_key: input.key, value, summary, author, created_at: now, deployment_id: null });
        await recordAudit(trx, now, { type: 'deploy_change.added', actorUserId: user?.id ?? null, orgId: target.org_id, meta, details: { targetId, key: input.key, summary, author } });
        if (!approval) return { deployment: null };
        const live = await deploys.findTarget(trx, targetId);
        const expected = { digest, pendingVersion, currentDeploymentId: live?.current_deployment_id ?? null };
        return { deployment: await this.deployments.commit(trx, targetId, expected, next, author, 'none', null, approval, meta, user) };
      });
      if (!applied) continue;
      return { pendingVersion, digest, deployment: applied.deployment };
    }
    throw conflict('target_busy', 'The target is changing too fast; try again.');
  }

  async preview(actor: DeployActor, targetId: string): Promise<DeployPreview> {
    const target = await this.access.readableTarget(actor, targetId, 'deployments:read');
    const changes = await deploys.pendingChanges(this.db, targetId);
    const digest = bundleDigest(target.pending_bundle);
    const current = target.current_deployment_id ? await deploys.findDeployment(this.db, target.current_deployment_id) : undefined;
    // Replay the pending changes over what is live, so each shows the value it replaces.
    let bundle: Bundle = current ? current.bundle : {};
    const views: PendingChangeView[] = changes.map((c) => {
      const before = Object.hasOwn(bundle, c.entry_key) ? canonicalJson(bundle[c.entry_key]) : null;
      bundle = applyChange(bundle, c.entry_key, c.value);
      return { id: c.id, key: c.entry_key, summary: c.summary, author: c.author, createdAt: new Date(c.created_at).toISOString(), oldValue: before, newValue: c.value === null ? null : canonicalJson(c.value) };
    });
    return {
      target: await this.access.view(this.db, target),
      changes: views,
      digest,
      pendingVersion: target.pending_version,
      unchanged: current?.digest === digest,
    };
  }
}
