/**
 * The API token of this tab. Session storage: it survives reloads but not the tab, and
 * other tabs and sites cannot read it (the server never accepts tokens in URLs or cookies).
 */
const key = "cairn.token";

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

export function setToken(token: string): void {
  sessionStorage.setItem(key, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(key);
}
