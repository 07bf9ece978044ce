/** A failure the user can act on: a stable `code` for programs, a plain sentence for people. */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string) {
    super("not_found", message, 404);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super("forbidden", message, 403);
  }
}

export class ConflictError extends DomainError {
  constructor(code: string, message: string) {
    super(code, message, 409);
  }
}
