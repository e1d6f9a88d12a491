/** A worker process of the scaling run: runs the benchmark workflows until SIGTERM. */
import { Cairn } from "../src/index.ts";
import { sequential } from "./workflows.ts";

const db = process.env.CAIRN_DB;
if (!db) throw new Error("CAIRN_DB is required");
const cairn = await Cairn.open({ db, workflows: [sequential], pollMs: 200 });
await cairn.worker({ concurrency: 200 });
process.send?.("ready");
process.on("SIGTERM", () => {
  void cairn.close().then(() => process.exit(0));
});
