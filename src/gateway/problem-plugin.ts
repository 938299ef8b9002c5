/**
 * Problem plugin: every error, 404 and malformed request becomes an RFC 9457
 * `application/problem+json` answer with a code from the catalogue (errors.ts).
 *
 * It registers at the root (skip-override, the mechanism fastify-plugin uses), so it must be
 * registered before the routes: Fastify copies the error handler into each child context
 * when that context is created.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CATALOGUE, GatewayError, problem, type ErrorCode, type Problem } from './errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Fastify's own error codes that are the client's fault, mapped to catalogue codes. */
const FASTIFY_CODES: Record<string, { code: ErrorCode; detail: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'MALFORMED_JSON', detail: 'the body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'MALFORMED_JSON', detail: 'the body is empty but the content type is application/json' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'BODY_TOO_LARGE', detail: 'the body is larger than this gateway accepts' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', detail: 'send the body as application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_REQUEST', detail: 'the body size does not match Content-Length' },
};

/** Sends `body` as a problem; the string is sent as is, so no response schema reshapes it. */
export function sendProblem(reply: FastifyReply, body: Problem, headers: Readonly<Record<string, string>> = {}): FastifyReply {
  return reply.code(body.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

/** Maps any error a route, parser or validator raised to the problem we answer with. */
export function errorToProblem(err: unknown, request: FastifyRequest): { body: Problem; headers: Readonly<Record<string, string>> } {
  if (err instanceof GatewayError) return { body: err.problem, headers: err.headers };
  const fastifyError = err as Partial<FastifyError>;
  const known = typeof fastifyError.code === 'string' ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (known !== undefined) return { body: problem(known.code, known.detail), headers: {} };
  if (fastifyError.validation !== undefined) {
    // Only reached if a route used a compiler other than ours: still a 400, without a field.
    return { body: problem('VALIDATION_FAILED', `${fastifyError.validationContext ?? 'request'} is invalid`), headers: {} };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { body: problem('BAD_REQUEST', 'the request could not be processed'), headers: {} };
  }
  request.log.error({ err }, 'unhandled error');
  return { body: problem('INTERNAL_ERROR', 'the gateway failed to process the request'), headers: {} };
}

const problemPlugin: FastifyPluginAsync = async (app: FastifyInstance) => {
  // Only JSON bodies: without this, text/plain would be parsed and fail validation (400)
  // instead of being refused as the wrong media type (415).
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((err, request, reply) => {
    const { body, headers } = errorToProblem(err, request);
    return sendProblem(reply, body, headers);
  });

  app.setNotFoundHandler((request, reply) => {
    return sendProblem(reply, problem('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`.slice(0, 256)));
  });
};
// Applies to the root instance rather than an encapsulated child (Fastify "Plugins" reference).
Object.assign(problemPlugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'bulwark-problems' });
export { problemPlugin };

/**
 * Server `clientErrorHandler`: a request too malformed to reach routing (bad HTTP syntax,
 * oversized headers, timeout) gets a problem too, then the connection closes; the server
 * keeps serving everyone else.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, detail]: [ErrorCode, string] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? ['REQUEST_TIMEOUT', 'the request did not arrive in time']
    : err.code === 'HPE_HEADER_OVERFLOW' ? ['HEADERS_TOO_LARGE', 'the request headers are too large']
    : ['BAD_REQUEST', 'the request is not valid HTTP/1.1'];
  const body = JSON.stringify(problem(code, detail));
  const { status, title } = ERROR_CATALOGUE[code];
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
