/** The logger the server writes to (pino's shape). */
export interface ServerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): ServerLogger;
}
