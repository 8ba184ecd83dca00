/**
 * What every self-service flow has, as in Ory Kratos: a state, an expiry, the methods still
 * allowed, what has been proven so far (amr) and where to go once it is done. A flow is a plain
 * value: the transitions in the files beside this one take a flow and return the next one (or
 * throw why they cannot), so they are tested without a database. Services load a flow, apply a
 * transition and save it with a compare-and-set on the state, so two requests cannot both move
 * the same flow on.
 */
export interface Flow<Kind extends string, State extends string, Method extends string = string> {
  readonly kind: Kind;
  readonly state: State;
  /** Epoch milliseconds after which the flow accepts nothing. */
  readonly expiresAt: number;
  /** The methods the flow accepts in its current state. */
  readonly methods: readonly Method[];
  /** Authentication method references proven so far (RFC 8176). */
  readonly amr: readonly string[];
  /** A path on this site to go to once the flow is done, already checked (see local-path.ts). */
  readonly returnTo: string | null;
}

export function isExpired(flow: { expiresAt: number }, nowMs: number): boolean {
  return flow.expiresAt <= nowMs;
}

/** Adds a factor's method references; `mfa` marks that more than one kind was used. */
export function mergeAmr(existing: readonly string[], added: readonly string[]): string[] {
  const set = new Set([...existing, ...added]);
  set.delete('mfa');
  if (set.size >= 2) set.add('mfa');
  return [...set];
}
