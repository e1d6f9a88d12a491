import { readdirSync, readFileSync } from "node:fs";

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/** The numbered `NNNN_name.sql` files of a store's migrations folder, in order. */
export function loadMigrations(dir: URL): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{4}_.+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      id: Number(file.slice(0, 4)),
      name: file.replace(/\.sql$/, ""),
      sql: readFileSync(new URL(file, dir), "utf8"),
    }));
}
