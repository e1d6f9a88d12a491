import { useVirtualizer } from "@tanstack/react-virtual";
import { useMemo, useRef } from "react";
import type { Step } from "../api/types.ts";
import { formatDuration } from "../lib/format.ts";
import { buildWaterfall, failedAttempts, type Segment } from "./waterfall-model.ts";

const rowHeight = 34;

/**
 * The step waterfall: one row per journal entry on a shared time axis. Rows are
 * virtualized, so a run of thousands of steps renders only what is on screen.
 */
export function StepWaterfall({
  steps,
  run,
  now,
  selected,
  onSelect,
}: {
  steps: readonly Step[];
  run: { createdAt: string; startedAt: string | null; finishedAt: string | null };
  now: number;
  selected: number | null;
  onSelect: (position: number) => void;
}) {
  const model = useMemo(() => buildWaterfall(steps, run, now), [steps, run, now]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: model.rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight,
    overscan: 10,
  });
  const span = model.t1 - model.t0;
  const pct = (t: number) => `${(((t - model.t0) / span) * 100).toFixed(3)}%`;
  const width = (s: Segment) => `max(3px, ${(((s.end - s.start) / span) * 100).toFixed(3)}%)`;
  const ticks = [0, 0.25, 0.5, 0.75, 1];

  return (
    <div className="waterfall">
      <div className="wf-axis" aria-hidden="true">
        <div className="wf-label-col">Step</div>
        <div className="wf-track">
          {ticks.map((f) => (
            <span
              key={f}
              className="wf-tick"
              style={{ left: `${f * 100}%`, transform: f === 1 ? "translateX(-100%)" : undefined }}
            >
              {f === 0 ? "0" : `+${formatDuration(span * f)}`}
            </span>
          ))}
        </div>
        <div className="wf-dur-col">Duration</div>
      </div>
      <div
        ref={scroller}
        className="wf-scroll"
        style={{
          height: Math.min(560, Math.max(rowHeight * 3, model.rows.length * rowHeight + 2)),
        }}
        tabIndex={-1}
      >
        <ul
          className="wf-list"
          aria-label={`Steps (${model.rows.length})`}
          style={{ height: virtualizer.getTotalSize() }}
        >
          {virtualizer.getVirtualItems().map((item) => {
            const row = model.rows[item.index];
            if (!row) return null;
            const { step } = row;
            const failures = failedAttempts(step);
            return (
              <li
                key={step.position}
                className="wf-item"
                style={{ transform: `translateY(${item.start}px)`, height: rowHeight }}
              >
                <button
                  type="button"
                  className={`wf-row${selected === step.position ? " wf-row-selected" : ""}`}
                  aria-pressed={selected === step.position}
                  data-step={step.key}
                  onClick={() => onSelect(step.position)}
                >
                  <span className="wf-label-col">
                    <span className={`wf-dot wf-dot-${step.status}`} aria-hidden="true" />
                    <span className="wf-key">{step.key}</span>
                    {step.kind !== "step" ? <span className="wf-kind">{step.kind}</span> : null}
                    {failures > 0 ? (
                      <span className="wf-failures">
                        {failures} failed attempt{failures === 1 ? "" : "s"}
                      </span>
                    ) : null}
                    <span className="sr-only">, {step.status}</span>
                  </span>
                  <span className="wf-track">
                    {row.segments.map((s) => (
                      <span
                        key={`${s.kind}-${s.start}`}
                        className={`wf-seg wf-seg-${s.kind}${s.failed ? " wf-seg-failed" : ""}${s.open ? " wf-seg-open" : ""}`}
                        style={{ left: pct(s.start), width: width(s) }}
                        title={`${s.label} · ${formatDuration(s.end - s.start)}`}
                      >
                        {s.kind === "wait" ? <span className="wf-seg-text">{s.label}</span> : null}
                      </span>
                    ))}
                  </span>
                  <span className="wf-dur-col">
                    {row.start !== null && row.end !== null
                      ? formatDuration(row.end - row.start)
                      : "—"}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      </div>
      <div className="wf-legend" aria-hidden="true">
        <span>
          <i className="wf-seg-attempt" /> attempt
        </span>
        <span>
          <i className="wf-seg-attempt wf-seg-failed" /> failed attempt
        </span>
        <span>
          <i className="wf-seg-backoff" /> retry backoff
        </span>
        <span>
          <i className="wf-seg-wait" /> waiting
        </span>
      </div>
    </div>
  );
}
