// The rules live in core: the worker checks `ctx.setTags` with them too.
export { checkTags } from "../core/tags.ts";
