import express, { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { extname, resolve } from 'node:path';
import { mimeForExtension } from '../../modules/upload/file-sniffer';

/** `X-Request-ID`: echoed when the client sent a sane one, otherwise a fresh UUID; on every response. */
export function requestId() {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    (req as Request & { id: string }).id = id;
    res.setHeader('X-Request-ID', id);
    next();
  };
}

/**
 * CORS exactly as the protocol: allow-listed origins get the headers; nothing is ever blocked
 * here; every OPTIONS request is answered 204 at once (no auth, no rate limit).
 */
export function cors(allowedOrigins: string[]) {
  const allowed = new Set(allowedOrigins);
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (typeof origin === 'string' && allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Origin, Content-Type, Authorization, X-Request-ID');
      res.setHeader('Access-Control-Max-Age', '86400');
    }
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}

export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; " +
  "connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/** Baseline headers on every response. */
export function securityHeaders() {
  return (_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    next();
  };
}

/**
 * /static: the browser client (with a CSP without inline scripts) and the uploads, which are
 * served with the type of their (verified) extension, nosniff, and a sandbox CSP so nothing in
 * them can run as active content on our origin.
 */
export function staticFiles(staticDir: string, uploadDir: string) {
  const router = express.Router();
  const uploadsAbs = resolve(uploadDir);
  router.use(
    '/static/uploads',
    express.static(uploadsAbs, {
      index: false,
      dotfiles: 'deny',
      fallthrough: true,
      setHeaders: (res, path) => {
        const type = mimeForExtension(extname(path));
        res.setHeader('Content-Type', type);
        res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
        if (!/^(image|audio)\//.test(type)) res.setHeader('Content-Disposition', 'attachment');
        res.setHeader('Cache-Control', 'private, max-age=86400');
      },
    }),
  );
  router.use('/static/uploads', (_req: Request, res: Response) => {
    res.status(404).json({ error: 'File not found' });
  });
  router.use(
    '/static',
    express.static(resolve(staticDir), {
      index: 'index.html',
      dotfiles: 'ignore',
      redirect: true,
      setHeaders: (res, path) => {
        if (path.endsWith('.html')) {
          res.setHeader('Content-Security-Policy', PAGE_CSP);
          res.setHeader('Cache-Control', 'no-cache');
        }
      },
    }),
  );
  router.get('/', (_req: Request, res: Response) => res.redirect(302, '/static/'));
  // the WebSocket endpoint without an upgrade (upgrades never reach Express)
  router.get('/api/v1/ws', (_req: Request, res: Response) => {
    res.status(400).json({ error: 'Bad Request' });
  });
  return router;
}
