import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { Request, Response } from 'express';
import { DomainError, isDatabaseUnavailable, STATUS_OF } from './domain-error';

/** Maps every error to the protocol's JSON body: `{"error": …}` (+ `details` for validation). */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    if (res.headersSent) return;
    const { status, body } = this.toResponse(exception, req);
    if (status >= 500) {
      // `req` is serialized to its id, method and url: the line names its request itself
      this.logger.error({ err: exception, req, status }, 'request failed');
    }
    res.status(status).json(body);
  }

  private toResponse(e: unknown, req: Request): { status: number; body: Record<string, unknown> } {
    if (e instanceof DomainError) {
      const body: Record<string, unknown> = { error: e.message, ...(e.extra ?? {}) };
      if (e.details !== undefined) body.details = e.details;
      return { status: STATUS_OF[e.code], body };
    }
    if (e instanceof HttpException) {
      const status = e.getStatus();
      if (status === 404) return { status, body: { error: '404 page not found' } };
      if (status === 413) return { status, body: { error: 'Request body too large' } };
      const r = e.getResponse();
      const message = typeof r === 'string' ? r : String((r as { message?: unknown }).message ?? e.message);
      return { status, body: { error: message } };
    }
    const anyErr = e as { type?: string; status?: number; statusCode?: number; expose?: boolean };
    // body-parser errors (malformed JSON, too large, bad encoding); a corrupt gzip body carries no
    // `type`, only http-errors' status 400 + expose (it was a 500)
    if (anyErr && typeof anyErr === 'object' && (typeof anyErr.type === 'string' || anyErr.expose === true)) {
      if (anyErr.type === 'entity.too.large') return { status: 413, body: { error: 'Request body too large' } };
      if (anyErr.type === 'entity.parse.failed') {
        return { status: 400, body: { error: 'Validation failed', details: 'Malformed JSON body' } };
      }
      const s = anyErr.status ?? anyErr.statusCode ?? 400;
      if (s >= 400 && s < 500) return { status: s, body: { error: 'Invalid request body' } };
    }
    if (isDatabaseUnavailable(e)) {
      return { status: 503, body: { error: 'Service temporarily unavailable', request_id: req.id } };
    }
    return { status: 500, body: { error: 'Internal server error', request_id: req.id } };
  }
}
