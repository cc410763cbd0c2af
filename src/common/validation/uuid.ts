import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { DomainError } from '../errors/domain-error';

const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX32 = /^[0-9a-f]{32}$/;

/**
 * Parses a UUID the way the original server did (Go uuid.Parse): the canonical form, `urn:uuid:…`,
 * `{…}` and 32 hex digits without hyphens. Returns the lowercase canonical form, or null.
 */
export function parseUuid(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > 45) return null;
  let s = input.toLowerCase();
  if (s.startsWith('urn:uuid:')) s = s.slice(9);
  else if (s.length === 38 && s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  if (CANONICAL.test(s)) return s;
  if (HEX32.test(s)) return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  return null;
}

/** Route-param pipe: a UUID or 400 with the endpoint's own message ("Invalid room ID", …). */
@Injectable()
export class UuidPipe implements PipeTransform<string, string> {
  constructor(private readonly message: string) {}
  transform(value: string, _meta: ArgumentMetadata): string {
    const id = parseUuid(value);
    if (!id) throw new DomainError('BAD_REQUEST', this.message);
    return id;
  }
}

export const RoomIdPipe = new UuidPipe('Invalid room ID');
export const UserIdPipe = new UuidPipe('Invalid user ID');
export const MessageIdPipe = new UuidPipe('Invalid message ID');

/** Length in Unicode code points (the protocol's "characters"). */
export function charLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** True when `s` holds a lone surrogate or NUL, which PostgreSQL text cannot store faithfully. */
export function hasInvalidText(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}
