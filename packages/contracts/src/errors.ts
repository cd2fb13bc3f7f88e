/** RAGFlow RetCode values (common/constants.py). */
export const RetCode = {
  SUCCESS: 0,
  NOT_EFFECTIVE: 10,
  EXCEPTION_ERROR: 100,
  ARGUMENT_ERROR: 101,
  DATA_ERROR: 102,
  OPERATING_ERROR: 103,
  CONNECTION_ERROR: 105,
  RUNNING: 106,
  PERMISSION_ERROR: 108,
  AUTHENTICATION_ERROR: 109,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  SERVER_ERROR: 500,
} as const;
export type RetCode = (typeof RetCode)[keyof typeof RetCode];

/**
 * A domain error with a stable code and a message that is safe to show to clients.
 * Dialect filters render it in their own envelope; anything that is not a DomainError becomes a
 * generic error carrying an error id that also appears in the log.
 */
export class DomainError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** optional `data` for envelopes that carry one */
    readonly data?: unknown,
    /** HTTP status, when the dialect answers with a non-200 status for this error */
    readonly httpStatus = 200,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const argumentError = (message: string) => new DomainError(RetCode.ARGUMENT_ERROR, message);
export const dataError = (message: string, data?: unknown) => new DomainError(RetCode.DATA_ERROR, message, data);
export const permissionError = (message: string) => new DomainError(RetCode.PERMISSION_ERROR, message);
export const authError = (message: string) => new DomainError(RetCode.AUTHENTICATION_ERROR, message);

/** Upstream dependency (storage, search, Redis) unavailable: the request may be retried. */
export class DependencyUnavailableError extends DomainError {
  constructor(readonly dependency: string, detail: string) {
    super(RetCode.CONNECTION_ERROR, `${dependency} is unavailable: ${detail}`, undefined, 503);
    this.name = 'DependencyUnavailableError';
  }
}
