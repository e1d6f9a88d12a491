// tsc emits only JavaScript; the SQL migrations the stores read at run time go beside it.
import { cpSync, rmSync } from "node:fs";

rmSync("dist/store-sqlite/migrations", { recursive: true, force: true });
cpSync("src/store-sqlite/migrations", "dist/store-sqlite/migrations", { recursive: true });
