import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { listVersions } from "./flow-api.ts";
import { VersionDiffView } from "./version-diff-view.tsx";

/**
 * A flow's versions with author and time: open one read-only, roll back to it (deploy it
 * again as a new version), or tick two to see what changed between them.
 */
export function VersionsPanel(props: {
  name: string;
  current?: number;
  onRollback: (version: number) => void;
}) {
  const versions = useQuery({
    queryKey: ["flow-versions", props.name],
    queryFn: () => listVersions(props.name),
  });
  const [picked, setPicked] = useState<number[]>([]);
  if (!versions.data) return null;
  const toggle = (v: number) =>
    setPicked((p) => (p.includes(v) ? p.filter((x) => x !== v) : [...p, v].slice(-2)));
  const pair = picked.length === 2 ? [...picked].sort((a, b) => a - b) : null;
  return (
    <section className="fe-panel" data-testid="versions">
      <strong>Versions</strong>
      <table className="fe-versions">
        <thead>
          <tr>
            <th>diff</th>
            <th>version</th>
            <th>author</th>
            <th>deployed</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {versions.data.map((v) => (
            <tr key={v.version} data-testid={`version-${v.version}`}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`compare v${v.version}`}
                  checked={picked.includes(v.version)}
                  onChange={() => toggle(v.version)}
                />
              </td>
              <td>
                <Link to={`/flows/${encodeURIComponent(props.name)}?v=${v.version}`}>
                  v{v.version}
                </Link>
                {v.version === props.current ? " (open)" : ""}
              </td>
              <td>{v.author ?? "—"}</td>
              <td>{new Date(v.createdAt).toLocaleString()}</td>
              <td>
                {v.version === versions.data[0]?.version ? null : (
                  <button type="button" onClick={() => props.onRollback(v.version)}>
                    Roll back
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {pair ? (
        <VersionDiffView name={props.name} older={pair[0] as number} newer={pair[1] as number} />
      ) : (
        <small>Tick two versions to compare them.</small>
      )}
    </section>
  );
}
