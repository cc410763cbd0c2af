import { pageParams, totalPages } from './pagination';

describe('pageParams clamps page and limit (never 0, negative, NaN or above the cap)', () => {
  it.each([
    [undefined, undefined, 1, 20],
    ['2', '10', 2, 10],
    ['0', '0', 1, 20],
    ['-1', '-5', 1, 20],
    ['abc', 'xyz', 1, 20],
    ['1.5', '2.5', 1, 20],
    ['', '', 1, 20],
    [' 3 ', ' 7 ', 3, 7],
    ['1', '51', 1, 50],
    ['1', '999999999999', 1, 50],
    ['99999999999999', '5', 1_000_000, 5],
    ['1e3', '1e3', 1, 20],
    [['2'], ['3'], 1, 20],
  ])('page=%j limit=%j → page %d, limit %d', (p, l, page, limit) => {
    expect(pageParams(p, l, 20, 50)).toEqual({ page, limit });
  });
});

describe('totalPages', () => {
  it.each([
    [0, 20, 0],
    [1, 20, 1],
    [20, 20, 1],
    [21, 20, 2],
    [105, 50, 3],
  ])('total %d, limit %d → %d', (t, l, n) => expect(totalPages(t, l)).toBe(n));
});
