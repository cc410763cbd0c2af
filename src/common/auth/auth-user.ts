/** The authenticated caller, as every service receives it. */
export interface AuthUser {
  id: string;
  /** username claim at issue time (the original's WS events use it) */
  username: string;
  jti: string;
  /** token expiry, unix seconds */
  exp: number;
}

export interface TokenClaims {
  user_id: string;
  username: string;
  jti: string;
  iat: number;
  exp: number;
  /** token version: tokens older than the user's current version are revoked (password change) */
  tv?: number;
}
