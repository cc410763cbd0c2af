import { types } from 'pg';
import { timestamptzText } from './prepared';

/** What the message path gave before: pg's own timestamptz parser, then Date#toJSON. */
const viaDate = (s: string) => (types.getTypeParser(types.builtins.TIMESTAMPTZ, 'text')(s) as Date).toISOString();

describe('timestamptzText', () => {
  it('gives the text a Date would, for every fraction length PostgreSQL writes in UTC', () => {
    const cases = [
      '2026-11-28 20:02:17+00',
      '2026-11-28 20:02:17.1+00',
      '2026-11-28 20:02:17.12+00',
      '2026-11-28 20:02:17.123+00',
      '2026-11-28 20:02:17.1234+00',
      '2026-11-28 20:02:17.12345+00',
      '2026-11-28 20:02:17.999999+00',
      '2026-11-28 20:02:17.000001+00',
      '1999-12-31 23:59:59.9995+00',
      '0001-01-01 00:00:00+00',
    ];
    for (const s of cases) expect([s, timestamptzText(s)]).toEqual([s, viaDate(s)]);
    expect(timestamptzText('2026-11-28 20:02:17.1+00')).toBe('2026-11-28T20:02:17.100Z');
    expect(timestamptzText('2026-11-28 20:02:17.999999+00')).toBe('2026-11-28T20:02:17.999Z'); // cut, as a Date cuts
  });

  it('agrees with the Date path on random instants with microseconds', () => {
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(Math.random() * 4102444800000); // 1970–2100
      const micros = String(Math.floor(Math.random() * 1000)).padStart(3, '0');
      const iso = new Date(ms).toISOString(); // 2026-11-28T20:02:17.123Z
      const pgText = `${iso.slice(0, 10)} ${iso.slice(11, 23)}${micros}`.replace(/0+$/, '').replace(/\.$/, '') + '+00';
      expect([pgText, timestamptzText(pgText)]).toEqual([pgText, viaDate(pgText)]);
    }
  });

  it('other session time zones, far years and BC go through pg’s parser; infinity is null', () => {
    for (const s of ['2026-11-28 21:02:17.5+01', '2026-11-28 14:32:17.123456-05:30', '2026-11-29 01:47:17+05:45', '12026-01-01 00:00:00+00', '0044-03-15 12:00:00+00 BC']) {
      expect([s, timestamptzText(s)]).toEqual([s, viaDate(s)]);
    }
    expect(timestamptzText('2026-11-28 21:02:17.5+01')).toBe('2026-11-28T20:02:17.500Z');
    expect(timestamptzText('infinity')).toBeNull();
    expect(timestamptzText('-infinity')).toBeNull();
  });
});
