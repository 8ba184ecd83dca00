import { invalidInput } from '../core/errors.js';
import type { Executor } from '../store/index.js';
import { branding, organisations } from '../store/index.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import { requireSudoAdmin } from './step-up.js';
import { requireInTree } from './tenancy.js';

/** An organisation's branding as the admin pages and the API show it. */
export interface BrandingView {
  orgId: string;
  /** The name this organisation set for itself, or null when it shows the inherited one. */
  companyName: string | null;
  /** What its people see: its own, else the nearest organisation above it that set one, else the configured default. */
  effectiveCompanyName: string;
  /** Where the effective name comes from: an organisation's id, or null for the configured default (TWOFOLD_COMPANY_NAME). */
  inheritedFrom: string | null;
}

/**
 * The company name as an organisation setting. People see the name of their own organisation,
 * or of the nearest one above it that set one (an agency's sub-accounts show the agency's name
 * unless they set their own), and TWOFOLD_COMPANY_NAME when none did. Pages, messages and the
 * authenticator issuer all read it through `companyNameFor`.
 */
export class BrandingService {
  constructor(private readonly deps: ServiceDeps) {}

  private get db() {
    return this.deps.database.db;
  }

  /** The company name the people of `orgId` see. */
  async companyNameFor(orgId: string): Promise<string> {
    return companyNameFor(this.deps, orgId);
  }

  async get(actor: Actor, orgId: string): Promise<BrandingView> {
    const admin = await requireSudoAdmin(this.deps, actor);
    await requireInTree(this.db, admin, orgId);
    return this.view(this.db, orgId);
  }

  /** Sets the organisation's own name, or with null goes back to the inherited one. */
  async set(actor: Actor, orgId: string, input: { companyName: string | null }, meta: RequestMeta): Promise<BrandingView> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const name = input.companyName === null ? null : checkCompanyName(input.companyName);
    return this.db.transaction().execute(async (trx) => {
      await requireInTree(trx, admin, orgId);
      const before = (await branding.findBranding(trx, orgId))?.company_name ?? null;
      const now = this.deps.clock();
      if (name === null) await branding.deleteBranding(trx, orgId);
      else await branding.upsertBranding(trx, { org_id: orgId, company_name: name, updated_at: now, updated_by: admin.id });
      await recordAudit(trx, now, { type: 'organisation.branding_changed', actorUserId: admin.id, orgId, meta, details: { before, after: name } });
      return this.view(trx, orgId);
    });
  }

  private async view(db: Executor, orgId: string): Promise<BrandingView> {
    const own = await branding.findBranding(db, orgId);
    const resolved = await resolveCompanyName(this.deps, db, orgId);
    return { orgId, companyName: own?.company_name ?? null, effectiveCompanyName: resolved.name, inheritedFrom: resolved.from };
  }
}

/**
 * The company name the people of `orgId` see, for any service that writes it (messages, the
 * authenticator issuer). Pass the open transaction when there is one.
 */
export async function companyNameFor(deps: ServiceDeps, orgId: string, db: Executor = deps.database.db): Promise<string> {
  return (await resolveCompanyName(deps, db, orgId)).name;
}

async function resolveCompanyName(deps: ServiceDeps, db: Executor, orgId: string): Promise<{ name: string; from: string | null }> {
  const chain = await organisations.ancestorIds(db, orgId);
  const rows = new Map((await branding.listBranding(db, chain)).map((r) => [r.org_id, r.company_name]));
  for (const id of chain) {
    const name = rows.get(id);
    if (name !== undefined) return { name, from: id };
  }
  return { name: deps.settings.companyName, from: null };
}

/**
 * One line of 1 to 80 characters without a colon: it goes into message subjects and is the
 * issuer of an otpauth URI, whose label is "issuer:account" (the same rule as TWOFOLD_COMPANY_NAME).
 */
function checkCompanyName(value: string): string {
  const name = value.trim();
  // eslint-disable-next-line no-control-regex
  if (name === '' || name.length > 80 || name.includes(':') || /[\u0000-\u001f\u007f]/.test(name)) {
    throw invalidInput('company_name_invalid', 'Give the company name as one line of 1 to 80 characters, without a colon.');
  }
  return name;
}
