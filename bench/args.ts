/** Command-line flags of `npm run bench`. */

export const workloadIds = ["W1", "W2", "W3", "W4", "W5", "W7"] as const;
export type WorkloadId = (typeof workloadIds)[number];

export interface BenchArgs {
  /**
   * Where each workload's fresh database lives. `undefined`: a SQLite file in a new temp
   * dir. `sqlite:<path>`: a new temp dir beside `<path>` (to bench another disk).
   * `postgres://…`: handed to `Cairn.open` as it is.
   */
  db: string | undefined;
  only: WorkloadId[];
  /** Fewer repeats and a shorter idle window: a smoke test, not a measurement. */
  quick: boolean;
  /** W6 instead of the in-process workloads: `cairn server` + separate `cairn worker`s. */
  topology: boolean;
  /** Where the JSON report goes; `undefined`: bench/results/. */
  out: string | undefined;
  help: boolean;
}

export const usage = `Usage: npm run bench -- [--db <url>] [--only W1,W3] [--quick] [--topology] [--out <dir>]

  --db <url>     sqlite:<path>  fresh SQLite files in a temp dir created beside <path>
                 postgres://user@host:5432/name  a PostgreSQL database
                 (default: fresh SQLite files in the OS temp dir)
  --only <ids>   run a subset of ${workloadIds.join(", ")} (comma-separated)
  --quick        fewer repeats and a shorter idle window (smoke test)
  --topology     W6, the production topology: runs started over HTTP by a \`cairn server\`
                 process without workers, claimed by 1 and then 2 \`cairn worker\`
                 processes, against the same workloads in one process (W3- and W4-like)
  --out <dir>    write the JSON report to <dir> (default: bench/results/)
  --help         this text`;

export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = {
    db: undefined,
    only: [...workloadIds],
    quick: false,
    topology: false,
    out: undefined,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    // Accept both `--db url` and `--db=url`.
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s) : [arg];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new Error(`${flag} needs a value.\n\n${usage}`);
      return v;
    };
    switch (flag) {
      case "--db":
        args.db = value();
        break;
      case "--only":
        args.only = parseOnly(value());
        break;
      case "--quick":
        args.quick = true;
        break;
      case "--topology":
        args.topology = true;
        break;
      case "--out":
        args.out = value();
        break;
      case "--help":
      case "-h":
        args.help = true;
        break;
      default:
        throw new Error(`Unknown argument "${arg}".\n\n${usage}`);
    }
  }
  return args;
}

function parseOnly(list: string): WorkloadId[] {
  const wanted = list
    .split(",")
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== "");
  for (const id of wanted) {
    if (!(workloadIds as readonly string[]).includes(id)) {
      throw new Error(`--only: unknown workload "${id}" (known: ${workloadIds.join(", ")}).`);
    }
  }
  // Keep the canonical order whatever order the user typed.
  return workloadIds.filter((id) => wanted.includes(id));
}

/** The value after `name` on the command line (`--name value`), or `fallback` without it. */
export function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at > 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}
