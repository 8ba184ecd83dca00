import { randomUUID } from 'node:crypto';
import { invalidInput, notFound } from '../core/errors.js';
import type { Organisation } from '../store/index.js';
import { organisations } from '../store/index.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import { requireSudoAdmin } from './step-up.js';
import { requireInTree } from './tenancy.js';

export interface ManagedOrganisation {
  id: string;
  name: string;
  /** 0 for the admin's own organisation, 1 for those directly below it, and so on. */
  depth: number;
}

/** The organisation tree as admins and the command line see it. */
export class OrganisationTree {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.database.db;
  }

  /** The admin's own organisation and every one below it, in tree order (children by name). */
  async managedBy(actor: Actor): Promise<ManagedOrganisation[]> {
    const admin = await requireSudoAdmin(this.deps, actor);
    // One statement for the whole tree (2,000 organisations were 2,000 bound ids before).
    const found = await organisations.listSubtree(this.db, admin.org_id);
    const own = found.find((o) => o.id === admin.org_id);
    if (!own) return [];
    const byParent = new Map<string | null, Organisation[]>();
    for (const org of found) {
      if (org.id === own.id) continue;
      const siblings = byParent.get(org.parent_id);
      if (siblings) siblings.push(org);
      else byParent.set(org.parent_id, [org]);
    }
    const out: ManagedOrganisation[] = [];
    const visit = (org: Organisation, depth: number) => {
      out.push({ id: org.id, name: org.name, depth });
      for (const child of (byParent.get(org.id) ?? []).sort((a, b) => a.name.localeCompare(b.name))) visit(child, depth + 1);
    };
    visit(own, 0);
    return out;
  }

  /**
   * A new organisation below one the admin manages (an agency adding a sub-account): what
   * `twofold orgs create --parent` does, for an admin with sudo, within their own tree.
   */
  async createBelow(actor: Actor, parentId: string, input: { name: string }, meta: RequestMeta): Promise<{ id: string; name: string; parentId: string }> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const name = input.name.trim();
    if (name === '' || name.length > 200 || /[\r\n]/.test(name)) throw invalidInput('name_invalid', 'An organisation needs a name of 1 to 200 characters on one line.');
    return this.db.transaction().execute(async (trx) => {
      await requireInTree(trx, admin, parentId);
      const org: Organisation = { id: randomUUID(), name, parent_id: parentId, created_at: this.deps.clock() };
      await organisations.insertOrganisation(trx, org);
      await recordAudit(trx, org.created_at, { type: 'organisation.created', actorUserId: admin.id, orgId: org.id, meta, details: { name, parentId } });
      return { id: org.id, name, parentId };
    });
  }

  /** Every organisation, oldest first: for the operator at the command line. */
  async all(): Promise<Organisation[]> {
    return organisations.listOrganisations(this.db);
  }

  /** An organisation by id or exact name (the command line's `--org`). */
  async resolve(ref: string): Promise<Organisation> {
    const all = await this.all();
    const match = all.find((o) => o.id === ref) ?? all.find((o) => o.name === ref);
    if (!match) throw notFound('organisation_not_found', `No organisation "${ref}". List them with: twofold orgs list`);
    return match;
  }
}
