import { isoDate } from './iso-date';

describe('isoDate', () => {
  it('writes what JSON.stringify writes for a Date', () => {
    for (const d of [new Date(0), new Date('2026-11-27T19:01:04.123Z'), new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999)), new Date()]) {
      expect(JSON.stringify({ t: isoDate(d) })).toBe(JSON.stringify({ t: d }));
    }
  });

  it('gives the same text for equal instants from different Date objects, and passes strings and null through', () => {
    const a = new Date('2026-01-02T03:04:05.006Z');
    expect(isoDate(new Date(a.getTime()))).toBe('2026-01-02T03:04:05.006Z');
    expect(isoDate(a)).toBe('2026-01-02T03:04:05.006Z');
    expect(isoDate('2026-01-02T03:04:05.006Z')).toBe('2026-01-02T03:04:05.006Z');
    expect(isoDate(null)).toBeNull();
    expect(isoDate(new Date(NaN))).toBeNull();
  });

  it('stays correct past its memory bound', () => {
    const base = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 10_000; i++) {
      const d = new Date(base + i * 7);
      expect(isoDate(d)).toBe(d.toISOString());
    }
  });
});
