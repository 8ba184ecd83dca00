export type AdminArea = 'users' | 'roles' | 'policy' | 'services' | 'clients' | 'branding';

const AREAS: ReadonlyArray<{ area: AdminArea; href: string; label: string }> = [
  { area: 'users', href: '/admin/users', label: 'Users' },
  { area: 'roles', href: '/admin/roles', label: 'Roles and groups' },
  { area: 'policy', href: '/admin/policy', label: 'Policy' },
  { area: 'services', href: '/admin/services', label: 'Services' },
  { area: 'clients', href: '/admin/clients', label: 'Apps' },
  { area: 'branding', href: '/admin/organisations', label: 'Organisations' },
];

/** The admin areas, side by side; `current` is marked for screen readers and styled as selected. */
export function AdminNav(props: { current: AdminArea }) {
  return (
    <nav class="admin-nav" aria-label="Administration">
      {AREAS.map((a) => (
        <a key={a.area} href={a.href} {...(a.area === props.current ? { 'aria-current': 'page' } : {})}>
          {a.label}
        </a>
      ))}
    </nav>
  );
}

/** An organisation the admin manages, with its depth below the admin's own (for indenting). */
export interface ManagedOrganisation {
  id: string;
  name: string;
  depth: number;
}

/** A GET form that switches the page to another organisation of the admin's tree. */
export function OrganisationPicker(props: { action: string; organisations: ManagedOrganisation[]; selected: string; label?: string }) {
  if (props.organisations.length < 2) return null;
  return (
    <form method="get" action={props.action} class="org-picker">
      <label for="org-picker">{props.label ?? 'Organisation'}</label>
      <div class="row">
        <select id="org-picker" name="org">
          {props.organisations.map((o) => (
            <option key={o.id} value={o.id} selected={o.id === props.selected}>
              {`${'\u2003'.repeat(o.depth)}${o.name}`}
            </option>
          ))}
        </select>
        <button type="submit" class="secondary">
          Show
        </button>
      </div>
    </form>
  );
}
