/** Query parameters of a database URL that carry credentials (libpq and postgres.js names). */
const secretParams = /([?&](?:password|pass|sslpassword|sslkey|token|secret|api[_-]?key)=)[^&#]*/gi;

/**
 * A database URL safe to print or log: the password of its user info and credential query
 * parameters replaced by `***`. Anything that is no URL is returned as it is.
 * @example
 * redactUrl("postgres://app:s3cret@db:5432/cairn?sslpassword=x") // "postgres://app:***@db:5432/cairn?sslpassword=***"
 */
export function redactUrl(url: string): string {
  // Greedy up to the last "@" before the path: a password may hold an unencoded "@".
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*):[^/?#]*@/i, "$1:***@")
    .replace(secretParams, "$1***");
}
