import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError } from '../errors/domain-error';

export function flattenValidationErrors(errors: ValidationError[], prefix = ''): { field: string; constraints: string[] }[] {
  const out: { field: string; constraints: string[] }[] = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) out.push({ field, constraints: Object.values(e.constraints) });
    if (e.children?.length) out.push(...flattenValidationErrors(e.children, field));
  }
  return out;
}

/**
 * Input that makes the validators themselves throw is bad input, not a server error (both were 500):
 * class-transformer recurses into every nested value (a deeply nested body overflowed the stack),
 * and validator's isEmail calls encodeURI, which throws on a lone surrogate.
 */
class BoundedValidationPipe extends ValidationPipe {
  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    try {
      return await super.transform(value, metadata);
    } catch (e) {
      if (e instanceof RangeError) throw new DomainError('VALIDATION_FAILED', 'Validation failed', 'Body is nested too deeply');
      if (e instanceof URIError) throw new DomainError('VALIDATION_FAILED', 'Validation failed', 'Body contains invalid characters');
      throw e;
    }
  }
}

/** The one request-body validation: unknown keys are dropped (as the original did), errors are 400 JSON. */
export function createValidationPipe(): ValidationPipe {
  return new BoundedValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: false,
    transform: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) =>
      new DomainError('VALIDATION_FAILED', 'Validation failed', flattenValidationErrors(errors)),
  });
}
