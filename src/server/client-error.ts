import type { Socket } from "node:net";
import { type ProblemCode, problemBody, problemTable } from "./problems.ts";

/**
 * Node's `clientError` handler: requests its HTTP parser refuses before the app sees them
 * (a request line or headers over `maxHeaderSize`, a timeout, malformed HTTP) still get a
 * problem+json answer with the security headers, then the connection closes.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const code: ProblemCode =
    error.code === "HPE_HEADER_OVERFLOW"
      ? "headers_too_large"
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? "request_timeout"
        : "invalid_request";
  const detail =
    code === "headers_too_large"
      ? "The request line and headers are over the server's limit (16 KiB); send less, or credentials and ids of sane length."
      : code === "request_timeout"
        ? "The request was not received in time."
        : "The request is not valid HTTP/1.1.";
  const body = JSON.stringify(problemBody(code, detail));
  const { status, title } = problemTable[code];
  socket.end(
    [
      `HTTP/1.1 ${status} ${title}`,
      "Content-Type: application/problem+json",
      `Content-Length: ${Buffer.byteLength(body)}`,
      "X-Content-Type-Options: nosniff",
      "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'",
      "Referrer-Policy: no-referrer",
      "Connection: close",
      "",
      body,
    ].join("\r\n"),
  );
}
