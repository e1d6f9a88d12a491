/** `--queue gpu,default` → the queues a worker takes runs from. (Default: ["default"]) */
export function queuesOf(queue: string | undefined): string[] {
  const queues = (queue ?? "default")
    .split(",")
    .map((q) => q.trim())
    .filter(Boolean);
  return queues.length > 0 ? queues : ["default"];
}
