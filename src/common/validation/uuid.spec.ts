import { charLength, hasInvalidText, parseUuid } from './uuid';

describe('parseUuid (Go uuid.Parse forms)', () => {
  const id = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
  it.each([
    [id, id],
    [id.toUpperCase(), id],
    [`urn:uuid:${id}`, id],
    [`{${id}}`, id],
    [id.replace(/-/g, ''), id],
    [id.replace(/-/g, '').toUpperCase(), id],
  ])('accepts %s', (input, out) => expect(parseUuid(input)).toBe(out));

  it.each([
    '',
    'abc',
    id.slice(0, 35),
    id + '0',
    `{${id}`,
    `(${id})`,
    id.replace('3f', 'zz'),
    ` ${id}`,
    `urn:uuid:{${id}}`,
    'x'.repeat(1000),
  ])('refuses %j', (input) => expect(parseUuid(input)).toBeNull());

  it('refuses non-strings', () => {
    for (const v of [undefined, null, 42, {}, [id]]) expect(parseUuid(v)).toBeNull();
  });
});

describe('charLength counts code points', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['é', 1],
    ['😀', 1],
    ['😀😀x', 3],
    ['\ud83d', 1], // a lone surrogate still counts once
  ])('%j → %d', (s, n) => expect(charLength(s)).toBe(n));
});

describe('hasInvalidText', () => {
  it('flags NUL and lone surrogates only', () => {
    expect(hasInvalidText('plain ✓ 😀')).toBe(false);
    expect(hasInvalidText('a\u0000b')).toBe(true);
    expect(hasInvalidText('a\ud83db')).toBe(true);
    expect(hasInvalidText('a\ude00b')).toBe(true);
    expect(hasInvalidText('\ud83d')).toBe(true);
    expect(hasInvalidText('tab\tnewline\n')).toBe(false);
  });
});
