/** Roles, weakest first: viewer (read), operator (run, retry, ack, backfill), admin (everything). */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** True when `have` is at least `need`; `none` has no rights. */
export function roleAllows(have: Role | 'none', need: Role): boolean {
  return have !== 'none' && ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export function isRole(x: unknown): x is Role {
  return typeof x === 'string' && (ROLES as readonly string[]).includes(x);
}
