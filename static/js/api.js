// REST client for /api/v1: JSON in and out, the token in the Authorization header only.

const SESSION_KEY = 'chatapp_token';

/** The stored session `{token, user}` (the raw login/register body), or null. */
export function loadSession() {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
    return s && typeof s.token === 'string' && s.user && typeof s.user.id === 'string' ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(session) {
  localStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession() {
  localStorage.removeItem(SESSION_KEY);
}

/** An error carrying the server's `error` text and the HTTP status. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let onUnauthorized = () => {};
/** Called when an authenticated request answers 401 (token revoked or expired). */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/**
 * `api('GET', '/rooms/me')`. The body is JSON unless it is FormData. Resolves with the parsed
 * body; rejects with ApiError whose message is the server's error text.
 */
export async function api(method, path, body) {
  const session = loadSession();
  const headers = {};
  if (session) headers.Authorization = `Bearer ${session.token}`;
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, 'Network error: the server cannot be reached');
  }
  let data = null;
  const text = await res.text();
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    let message = (data && typeof data.error === 'string' && data.error) || `Request failed (${res.status})`;
    if (res.status === 413 && !(data && data.error)) message = 'File too large. Maximum size is 4 MB';
    if (data && data.error === 'Validation failed' && data.details) message = validationText(data.details);
    if (res.status === 401 && session && !path.startsWith('/auth/login') && !path.startsWith('/auth/register')) {
      onUnauthorized(message);
    }
    throw new ApiError(res.status, message);
  }
  return data;
}

function validationText(details) {
  if (typeof details === 'string') return `Validation failed: ${details}`;
  if (Array.isArray(details)) {
    const parts = details.map((d) => {
      const c = d && d.constraints ? Object.values(d.constraints).join(', ') : '';
      return d && d.field ? `${d.field}: ${c}` : c;
    });
    return `Validation failed: ${parts.filter(Boolean).join('; ')}`;
  }
  return 'Validation failed';
}
