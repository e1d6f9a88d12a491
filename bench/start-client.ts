import { Agent, request } from "node:http";

/**
 * Starts runs with `POST /api/v1/runs`, as a load generator does: node:http on kept-alive
 * connections. The bench shares two cores with the server and the workers it measures, and
 * `fetch` cost it about 0.8 ms of CPU per start, as much as the server's own work.
 */
export class StartClient {
  readonly #url: URL;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 256 });

  constructor(base: string) {
    this.#url = new URL("/api/v1/runs", base);
  }

  start(workflow: string, input: unknown): Promise<string> {
    const body = JSON.stringify({ workflow, input });
    return new Promise((resolve, reject) => {
      const req = request(
        this.#url,
        {
          method: "POST",
          agent: this.#agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("error", reject);
          res.on("end", () => {
            if (res.statusCode !== 201 && res.statusCode !== 200) {
              reject(new Error(`POST ${this.#url.pathname}: ${res.statusCode} ${text}`));
              return;
            }
            resolve((JSON.parse(text) as { id: string }).id);
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
