import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { NonRetryableError, RetryableError } from "../../core/errors.ts";

/** Which targets `http` steps may reach. */
export interface HttpPolicy {
  /** Allow private, loopback and link-local addresses (SSRF guard off). (Default: false) */
  allowPrivateNetworks?: boolean;
  /** Host names allowed even when they resolve to a private address. */
  allowHosts?: readonly string[];
  /** Largest response body, in bytes. (Default: 5 MiB) */
  maxResponseBytes?: number;
  /** Redirects followed, each target checked again. (Default: 5) */
  maxRedirects?: number;
}

export interface HttpRequest {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  query?: Record<string, unknown>;
  body?: unknown;
  maxResponseBytes?: number;
  allowErrorStatus?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 3],
] as const) {
  blocked.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  blocked.addSubnet(net, prefix, "ipv6");
}

/** True for loopback, private, link-local, CGNAT, multicast and unspecified addresses. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[1]) return blocked.check(mapped[1], "ipv4");
    return blocked.check(address, "ipv6");
  }
  return true;
}

async function checkTarget(url: URL, policy: HttpPolicy): Promise<void> {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new NonRetryableError(`http step: only http and https URLs, got "${url.protocol}"`);
  }
  if (policy.allowPrivateNetworks) return;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (policy.allowHosts?.includes(host)) return;
  const addresses = isIP(host)
    ? [host]
    : (
        await lookup(host, { all: true }).catch((error: Error) => {
          throw new RetryableError(`http step: cannot resolve "${host}": ${error.message}`);
        })
      ).map((a) => a.address);
  const bad = addresses.find(isPrivateAddress);
  if (bad !== undefined) {
    throw new NonRetryableError(
      `http step: "${url.host}" resolves to ${bad}, a private, loopback or link-local address; ` +
        "allow it with the `flows.http.allowPrivateNetworks` or `allowHosts` setting",
    );
  }
}

/**
 * One HTTP call of an `http` step: the target (and every redirect's) checked against the
 * SSRF policy, the response body capped. 5xx and 429 are retryable failures, other non-2xx
 * answers final ones (unless `allowErrorStatus`).
 */
export async function httpStep(
  request: HttpRequest,
  signal: AbortSignal,
  policy: HttpPolicy = {},
): Promise<HttpResponse> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw new NonRetryableError(`http step: invalid URL ${JSON.stringify(request.url)}`);
  }
  for (const [k, v] of Object.entries(request.query ?? {})) {
    url.searchParams.set(k, typeof v === "string" ? v : JSON.stringify(v));
  }
  let method = (request.method ?? (request.body === undefined ? "GET" : "POST")).toUpperCase();
  const headers: Record<string, string> = { ...request.headers };
  let body: string | undefined;
  if (request.body !== undefined && method !== "GET" && method !== "HEAD") {
    body = typeof request.body === "string" ? request.body : JSON.stringify(request.body);
    if (
      typeof request.body !== "string" &&
      !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")
    ) {
      headers["content-type"] = "application/json";
    }
  }
  const maxRedirects = policy.maxRedirects ?? 5;
  for (let hop = 0; ; hop++) {
    await checkTarget(url, policy);
    const response = await fetch(url, { method, headers, body, redirect: "manual", signal }).catch(
      (error: Error) => {
        if (signal.aborted) throw signal.reason;
        throw new RetryableError(`http step: ${method} ${url.origin} failed: ${error.message}`);
      },
    );
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (hop >= maxRedirects) {
        throw new NonRetryableError(`http step: more than ${maxRedirects} redirects`);
      }
      url = new URL(location, url);
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method === "POST")
      ) {
        method = "GET";
        body = undefined;
      }
      continue;
    }
    const limit = request.maxResponseBytes ?? policy.maxResponseBytes ?? 5 * 1024 * 1024;
    const text = await readCapped(response, limit);
    const type = response.headers.get("content-type") ?? "";
    let parsed: unknown = text;
    if (type.includes("json") && text !== "") {
      try {
        parsed = JSON.parse(text);
      } catch {}
    }
    const result = {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: parsed,
    };
    if (response.ok || request.allowErrorStatus) return result;
    const message = `http step: ${method} ${url.origin}${url.pathname} answered ${response.status}: ${text.slice(0, 500)}`;
    if (response.status >= 500 || response.status === 429) throw new RetryableError(message);
    throw new NonRetryableError(message);
  }
}

async function readCapped(response: Response, limit: number): Promise<string> {
  if (!response.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) {
      await response.body.cancel().catch(() => {});
      throw new NonRetryableError(`http step: response body over the limit of ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
