/**
 * A timestamp as the protocol writes it (`Date#toJSON`: `2026-11-27T19:01:04.123Z`), converted once
 * when a row becomes a DTO instead of inside every JSON.stringify (a Date there costs about four
 * times a string). The same instants recur constantly — every message of a group commit shares
 * its transaction's `now()`, a sender's profile dates repeat on each of their messages — so recent
 * conversions are remembered.
 */
const recent = new Map<number, string>();
const MAX_RECENT = 4096;

export function isoDate(v: Date | string): string;
export function isoDate(v: Date | string | null | undefined): string | null;
export function isoDate(v: Date | string | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  const t = v.getTime();
  let s = recent.get(t);
  if (s === undefined) {
    if (Number.isNaN(t)) return null; // an invalid Date serializes as null, as JSON.stringify does
    s = v.toISOString();
    if (recent.size >= MAX_RECENT) recent.clear();
    recent.set(t, s);
  }
  return s;
}
