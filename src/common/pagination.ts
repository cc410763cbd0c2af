/** Clamps `page`/`limit` query values: never 0, negative, NaN or above the cap (no 500, no unbounded list). */
export function pageParams(rawPage: unknown, rawLimit: unknown, def: number, cap: number): { page: number; limit: number } {
  const num = (v: unknown): number | null => {
    if (typeof v !== 'string' || !/^-?\d{1,15}$/.test(v.trim())) return null;
    return Number(v.trim());
  };
  const p = num(rawPage);
  const l = num(rawLimit);
  const page = p === null || p < 1 ? 1 : Math.min(p, 1_000_000);
  const limit = l === null || l < 1 ? def : Math.min(l, cap);
  return { page, limit };
}

export function totalPages(total: number, limit: number): number {
  return total === 0 ? 0 : Math.ceil(total / limit);
}
