export type SecurityArea = 'factors' | 'sessions' | 'devices' | 'activity';

const AREAS: ReadonlyArray<{ area: SecurityArea; href: string; label: string }> = [
  { area: 'factors', href: '/account/security', label: 'Sign-in methods' },
  { area: 'sessions', href: '/account/security/sessions', label: 'Sessions' },
  { area: 'devices', href: '/account/security/devices', label: 'Devices and locations' },
  { area: 'activity', href: '/account/activity', label: 'Activity' },
];

/** The parts of the security centre, side by side; `current` is marked for screen readers and styled as selected. */
export function SecurityNav(props: { current: SecurityArea }) {
  return (
    <nav class="section-nav" aria-label="Security centre">
      {AREAS.map((a) => (
        <a key={a.area} href={a.href} {...(a.area === props.current ? { 'aria-current': 'page' } : {})}>
          {a.label}
        </a>
      ))}
    </nav>
  );
}

/** A moment as shown to the user: in their zone, with the exact UTC time on hover. */
export interface Stamp {
  /** "2026-11-25 14:30 (GMT+5:30)". */
  local: string;
  /** "2026-11-25 09:00:00 UTC". */
  utc: string;
  /** Machine-readable, for the datetime attribute. */
  iso: string;
}

export function When(props: { at: Stamp }) {
  return (
    <time datetime={props.at.iso} title={props.at.utc}>
      {props.at.local}
    </time>
  );
}
