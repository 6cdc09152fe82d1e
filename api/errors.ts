import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FieldError } from '../domain/order-event';

/** An error the API answers with its own status and body instead of a 500. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
    readonly fields?: FieldError[],
  ) {
    super(message);
  }
}

export function badRequest(message: string, fields?: FieldError[]): HttpError {
  return new HttpError(400, 'ValidationError', message, fields);
}

export function notFound(message: string): HttpError {
  return new HttpError(404, 'NotFound', message);
}

export function unavailable(message: string): HttpError {
  return new HttpError(503, 'ServiceUnavailable', message);
}

/**
 * One error shape for every route: schema failures list every field (ajv runs with allErrors), our
 * own HttpErrors keep their status, and anything else is a 500 whose details stay in the log.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).send({ error: err.error, message: err.message, fields: err.fields });
    }
    if (err.validation) {
      const fields = err.validation.map((v) => ({
        field: fieldName(err.validationContext, v.instancePath, v.params),
        message: v.message ?? 'is invalid',
      }));
      return reply.code(400).send({ error: 'ValidationError', message: 'the request is invalid', fields });
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err }, 'request failed');
      return reply.code(status).send({ error: 'InternalError', message: 'internal error' });
    }
    // Framework and plugin errors (401 from bearer-auth, 413, 415, 429) keep their status, named for it.
    return reply
      .code(status)
      .send({ error: (STATUS_CODES[status] ?? 'Error').replace(/\W/g, ''), message: err.message });
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: 'NotFound', message: `no route for ${request.method} ${request.url.split('?')[0]}` }),
  );
}

function fieldName(
  context: string | undefined,
  instancePath: string,
  params: Record<string, unknown>,
): string {
  const path = instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing = typeof params.missingProperty === 'string' ? params.missingProperty : undefined;
  const extra = typeof params.additionalProperty === 'string' ? params.additionalProperty : undefined;
  const leaf = [path, missing ?? extra].filter(Boolean).join('.');
  return leaf || context || 'body';
}
