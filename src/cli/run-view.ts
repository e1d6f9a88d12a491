import type { EntryStatus, RunStatus } from "../core/types.ts";
import { formatDuration } from "./output.ts";

/** A step's progress, from an engine event (live) or a run snapshot (polled). */
export interface StepUpdate {
  key: string;
  kind: string;
  status: "started" | EntryStatus;
  attempt: number;
  durationMs?: number | null;
  error?: { name: string; message: string } | null;
}

/** Shows a run's progress while `cairn run --wait` follows it. */
export interface ProgressView {
  step(update: StepUpdate): void;
  run(status: RunStatus): void;
  /** Prints a line of its own (above a live view). */
  note(line: string): void;
  /** Stops live redrawing; later output goes below the view. */
  end(): void;
}

/** Later phases of one attempt outrank earlier ones; a later attempt outranks them all. */
const rank: Record<StepUpdate["status"], number> = {
  started: 0,
  waiting: 1,
  retrying: 2,
  completed: 2,
  failed: 2,
};

/**
 * Keeps the latest state of each step. Updates arrive from two sources (the event stream
 * and polled snapshots) in any order; only progress is applied, so nothing is shown twice
 * and a stale snapshot never moves a step back.
 */
class StepTable {
  readonly steps = new Map<string, StepUpdate & { startedAt: number }>();

  apply(update: StepUpdate): boolean {
    const previous = this.steps.get(update.key);
    if (previous) {
      const older =
        update.attempt < previous.attempt ||
        (update.attempt === previous.attempt && rank[update.status] <= rank[previous.status]);
      if (older) return false;
    }
    this.steps.set(update.key, {
      ...update,
      startedAt: update.status === "started" ? Date.now() : (previous?.startedAt ?? Date.now()),
    });
    return true;
  }
}

/** Picks the live view on a terminal, plain lines otherwise; both write to stderr. */
export function createProgressView(
  stream: NodeJS.WriteStream = process.stderr,
  tty = Boolean(stream.isTTY) && process.env.TERM !== "dumb",
): ProgressView {
  return tty ? new LiveView(stream) : new PlainView(stream);
}

const label = (u: StepUpdate) => (u.kind === "step" ? u.key : `${u.key} (${u.kind})`);
const errorText = (u: StepUpdate) => (u.error ? `${u.error.name}: ${u.error.message}` : "");

/** One line per change: what a log file or CI output should hold. */
class PlainView implements ProgressView {
  readonly #out: NodeJS.WriteStream;
  readonly #table = new StepTable();
  #status: RunStatus | undefined;

  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
  }

  step(update: StepUpdate): void {
    if (!this.#table.apply(update)) return;
    const took = update.durationMs == null ? "" : ` in ${formatDuration(update.durationMs)}`;
    const name = label(update);
    const lines: Record<StepUpdate["status"], string> = {
      started: `${name}: started (attempt ${update.attempt})`,
      completed: `${name}: completed${took}${update.attempt > 1 ? ` on attempt ${update.attempt}` : ""}`,
      retrying: `${name}: attempt ${update.attempt} failed${took}, retrying: ${errorText(update)}`,
      failed: `${name}: failed on attempt ${update.attempt}${took}: ${errorText(update)}`,
      waiting: `${name}: waiting`,
    };
    this.#out.write(`  ${lines[update.status]}\n`);
  }

  run(status: RunStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#out.write(`run ${status}\n`);
  }

  note(line: string): void {
    this.#out.write(`${line}\n`);
  }

  end(): void {}
}

const symbols: Record<StepUpdate["status"], string> = {
  started: "…",
  waiting: "◷",
  retrying: "↻",
  completed: "✓",
  failed: "✗",
};
const maxLines = 15;

/** A block redrawn in place: one line per step (the latest ones), with elapsed time. */
class LiveView implements ProgressView {
  readonly #out: NodeJS.WriteStream;
  readonly #table = new StepTable();
  readonly #startedAt = Date.now();
  #status: RunStatus = "queued";
  #drawn = 0;
  #ticker: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
  }

  step(update: StepUpdate): void {
    if (this.#table.apply(update)) this.#draw();
  }

  run(status: RunStatus): void {
    this.#status = status;
    this.#draw();
  }

  note(line: string): void {
    this.#out.write(`${this.#drawn > 0 ? `\x1b[${this.#drawn}A\r\x1b[J` : ""}${line}\n`);
    this.#drawn = 0;
    this.#draw();
  }

  end(): void {
    this.#draw();
    this.#ended = true;
    clearInterval(this.#ticker);
  }

  #draw(): void {
    if (this.#ended) return;
    // The clock starts with the first update, so nothing is drawn before the run exists.
    if (!this.#ticker) {
      this.#ticker = setInterval(() => this.#draw(), 200);
      this.#ticker.unref();
    }
    const steps = [...this.#table.steps.values()];
    const width = Math.min(32, Math.max(8, ...steps.map((s) => label(s).length)));
    const now = Date.now();
    const lines = [`${this.#status} · ${formatDuration(now - this.#startedAt)}`];
    const hidden = steps.length > maxLines ? steps.slice(0, steps.length - maxLines) : [];
    if (hidden.length > 0) {
      const done = hidden.filter((s) => s.status === "completed").length;
      lines.push(`  … ${hidden.length} earlier steps (${done} completed)`);
    }
    for (const s of steps.slice(hidden.length)) {
      const running = s.status === "started" ? now - s.startedAt : s.durationMs;
      const attempts = s.attempt > 1 ? `  attempt ${s.attempt}` : "";
      const error = s.status === "retrying" || s.status === "failed" ? `  ${errorText(s)}` : "";
      const text = `  ${symbols[s.status]} ${label(s).padEnd(width)}  ${formatDuration(running).padStart(8)}${attempts}${error}`;
      lines.push(text.slice(0, (this.#out.columns || 100) - 1));
    }
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    this.#out.write(`${up}\r\x1b[J${lines.join("\n")}\n`);
    this.#drawn = lines.length;
  }
}
