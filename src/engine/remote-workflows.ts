import type { RegistryStore } from "../store/registry-store.ts";

/**
 * Names of workflows some worker registered in the store: what a process without their code
 * (a `cairn server`) may start by name. A name stays registered once it is, so known names are
 * kept and only an unknown one reads the store again: an HTTP start paid a read of every
 * registered workflow before each insert.
 */
export class RemoteWorkflows {
  readonly #store: Pick<RegistryStore, "listWorkflows">;
  readonly #known = new Set<string>();

  constructor(store: Pick<RegistryStore, "listWorkflows">) {
    this.#store = store;
  }

  async has(name: string): Promise<boolean> {
    if (this.#known.has(name)) return true;
    for (const workflow of await this.#store.listWorkflows()) this.#known.add(workflow.name);
    return this.#known.has(name);
  }
}
