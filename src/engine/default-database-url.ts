/** The SQLite file `cairn dev` and `Cairn.open()` use when nothing else is configured. */
export const defaultDatabaseUrl = "sqlite:.cairn/cairn.db";
