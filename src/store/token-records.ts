export type TokenRole = "admin" | "operator" | "viewer";

/**
 * An API token as stored (`api_tokens`): the secret itself is never kept, only its SHA-256
 * hash. The HTTP server reads and writes these through its `TokenStore` port; the store
 * only maps their rows.
 */
export interface TokenRecord {
  id: string;
  name: string;
  role: TokenRole;
  secretHash: string;
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
  /** When the token stops working; null: never. */
  expiresAt: number | null;
}

/** A token as created: not yet used nor revoked; `expiresAt` absent or null never expires. */
export type NewTokenRecord = Omit<TokenRecord, "revokedAt" | "lastUsedAt" | "expiresAt"> & {
  expiresAt?: number | null;
};
