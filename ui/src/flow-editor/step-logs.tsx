import { useStepLogs } from "../api/queries.ts";

/** A step's logs (stderr of scripts, `ctx.log` of actions), when the server keeps them. */
export default function StepLogs(props: { runId: string; stepKey: string }) {
  const logs = useStepLogs(props.runId, props.stepKey);
  if (logs.isError) return <small>No logs available.</small>;
  const entries = logs.data?.logs ?? [];
  return (
    <>
      <div>logs</div>
      <pre data-testid="step-logs">
        {entries.length === 0
          ? "(none)"
          : entries
              .map((e) => `${e.at} ${e.level} ${e.message}${e.truncated ? " …" : ""}`)
              .join("\n")}
      </pre>
    </>
  );
}
