import { Link, useLocation } from "react-router";
import { EmptyState } from "../components/states.tsx";

export function NotFoundPage() {
  const location = useLocation();
  return (
    <section className="page">
      <h1>Page not found</h1>
      <EmptyState title={`Nothing lives at ${location.pathname}.`}>
        <Link to="/runs">Go to the runs</Link>
      </EmptyState>
    </section>
  );
}
