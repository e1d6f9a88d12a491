// tsc emits only JavaScript; the SQL migrations the stores read at run time go beside it.
import { cpSync, rmSync } from "node:fs";

for (const store of ["store-sqlite", "store-postgres"]) {
  rmSync(`dist/${store}/migrations`, { recursive: true, force: true });
  cpSync(`src/${store}/migrations`, `dist/${store}/migrations`, { recursive: true });
}
