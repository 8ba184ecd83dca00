import { notFound } from '../core/errors.js';
import type { Organisation } from '../store/index.js';
import { organisations } from '../store/index.js';
import type { Actor } from './actor.js';
import type { ServiceDeps } from './context.js';
import { requireSudoAdmin } from './step-up.js';

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
    const found = await organisations.findOrganisations(this.db, await organisations.subtreeIds(this.db, admin.org_id));
    const own = found.find((o) => o.id === admin.org_id);
    if (!own) return [];
    const byParent = new Map<string | null, Organisation[]>();
    for (const org of found) {
      if (org.id === own.id) continue;
      byParent.set(org.parent_id, [...(byParent.get(org.parent_id) ?? []), org]);
    }
    const out: ManagedOrganisation[] = [];
    const visit = (org: Organisation, depth: number) => {
      out.push({ id: org.id, name: org.name, depth });
      for (const child of (byParent.get(org.id) ?? []).sort((a, b) => a.name.localeCompare(b.name))) visit(child, depth + 1);
    };
    visit(own, 0);
    return out;
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
