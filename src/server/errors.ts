/**
 * HTTP errors of the API: every failure becomes `{"contract":1,"error":{"code","message"}}` (CLI
 * contract, "HTTP API of serve") with a status that says whose fault it was.
 */
import { STATUS_CODES } from 'node:http';
import { PhenofaceError, type ErrorCode } from '../errors.ts';

/** The API's error codes (all in {@link ErrorCode}). */
export type ApiErrorCode = ErrorCode;

/** An error with its HTTP status (and headers such as Retry-After). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
  }
}

/** HTTP status of each Phenoface error code. Codes not listed are server faults (500). */
export const STATUS_OF_CODE: Partial<Record<ApiErrorCode, number>> = {
  E_USAGE: 400,
  E_INPUT: 400,
  E_CONFIG: 400,
  E_UNAUTHORIZED: 401,
  E_FORBIDDEN: 403,
  E_NOT_FOUND: 404,
  E_TOO_LARGE: 413,
  E_UNSUPPORTED: 415,
  E_DECODE: 422,
  E_TOO_SMALL: 422,
  E_NO_FACE: 422,
  E_NO_USABLE_PHOTO: 422,
  E_BUSY: 503,
};

/**
 * The code and message of a client error thrown with a status and a bare message only (e.g.
 * @fastify/static's 403 "Forbidden" for a path outside its root).
 */
const CODE_OF_STATUS: Partial<Record<number, [ApiErrorCode, string]>> = {
  401: ['E_UNAUTHORIZED', 'This request needs the access token the server was started with.'],
  403: ['E_FORBIDDEN', 'Forbidden: the path lies outside what this server serves.'],
  404: ['E_NOT_FOUND', 'No such page or file on this server.'],
  413: ['E_TOO_LARGE', 'The request is larger than this server accepts.'],
  415: ['E_UNSUPPORTED', 'Unsupported media type. Expected multipart/form-data with "photos" fields.'],
};

/** Maps a Fastify/@fastify/multipart error code to ours. */
const FASTIFY_CODES: Record<string, [number, ApiErrorCode, string]> = {
  FST_REQ_FILE_TOO_LARGE: [413, 'E_TOO_LARGE', 'A photo is larger than the byte limit.'],
  FST_FILES_LIMIT: [413, 'E_TOO_LARGE', 'Too many photos in one request.'],
  FST_PARTS_LIMIT: [400, 'E_INPUT', 'Too many form parts in one request. Expected only "photos" files.'],
  FST_FIELDS_LIMIT: [400, 'E_INPUT', 'Too many form fields in one request. Expected only "photos" files.'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'E_TOO_LARGE', 'The request body is too large.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'E_UNSUPPORTED', 'Unsupported Content-Type. Expected multipart/form-data with "photos" fields.'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'E_UNSUPPORTED', 'The request is not multipart/form-data. Expected "photos" file fields.'],
  FST_PROTO_VIOLATION: [400, 'E_INPUT', 'Forbidden form field name.'],
  FST_MP_PREMATURE_CLOSE: [400, 'E_INPUT', 'The upload ended before the form data was complete.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'E_INPUT', 'Empty request body.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'E_INPUT', 'Content-Length does not match the body.'],
  FST_ERR_BAD_URL: [400, 'E_INPUT', 'The URL is malformed: a "%" not followed by two hex digits, or escapes that do not spell UTF-8. Expected a URL as a browser sends it.'],
};

/**
 * Whether an error code is the server's own fault (a 500): a model or bundle file, the software.
 * Its message is for the operator, not the client: it names the server's files (an explanation
 * reference's absolute path, say) and says nothing a web user could act on.
 */
export function isServerFault(code: string): boolean {
  return !(code in STATUS_OF_CODE);
}

/** What a web client is told of a server fault, in place of its message (the server's log keeps the code). */
export function serverFaultMessage(code: string): string {
  const what = code === 'E_INTERNAL' ? 'software' : 'model files';
  return `The server could not complete this screening (${code}): the fault lies with the server's own ${what}, not with the photos. Expected the server's operator to fix it; its log names the fault.`;
}

/** Any thrown value as an {@link ApiError}. Unknown errors and the server's own faults become a 500 without internals. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof PhenofaceError) {
    return isServerFault(err.code)
      ? new ApiError(500, err.code, serverFaultMessage(err.code), {}, {}, { cause: err })
      : new ApiError(STATUS_OF_CODE[err.code]!, err.code, err.message);
  }
  const fastifyCode = (err as { code?: unknown })?.code;
  if (typeof fastifyCode === 'string' && fastifyCode in FASTIFY_CODES) {
    const [status, code, message] = FASTIFY_CODES[fastifyCode];
    return new ApiError(status, code, message);
  }
  const status = (err as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const [code, message] = CODE_OF_STATUS[status] ?? ['E_INPUT', (err as Error).message ?? 'Bad request.'];
    return new ApiError(status, code, message);
  }
  return new ApiError(500, 'E_INTERNAL', serverFaultMessage('E_INTERNAL'));
}

/** The contract's error body. */
export function errorBody(e: ApiError): Record<string, unknown> {
  return { contract: 1, error: { code: e.code, message: e.message }, ...e.extra };
}

/**
 * Requests Node's HTTP parser refuses before any route sees them, by its error code: a request
 * line and headers over its size limit (a URL or header too long), and the request deadline.
 * Anything else it cannot parse is a 400.
 */
const PARSER_ERRORS: Record<string, [number, ApiErrorCode, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'E_TOO_LARGE', 'The request\'s URL and headers are larger than this server accepts. Expected a shorter URL and shorter headers.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'E_INPUT', 'The request did not arrive within the server\'s time limit.'],
};

/**
 * The whole HTTP response to a request the parser refused (Fastify's `clientErrorHandler` writes
 * it to the socket): the contract's error body, as every other error has, and the connection closed.
 */
export function parserErrorResponse(err: NodeJS.ErrnoException): string {
  const [status, code, message] = PARSER_ERRORS[err.code ?? ''] ?? [400, 'E_INPUT', 'Malformed HTTP request. Expected HTTP/1.1 as a browser or curl sends it.'];
  const body = JSON.stringify(errorBody(new ApiError(status, code, message)));
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
