/** vitest global setup of the `ui` project: the browser tests need a current dist/ui. */
// @ts-expect-error a plain .mjs script without type declarations
import { ensureUi } from "../../../scripts/ensure-ui.mjs";

export default function setup(): void {
  (ensureUi as () => boolean)();
}
