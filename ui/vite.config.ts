import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/**
 * The web UI: built into `dist/ui`, which the server serves at `/` (src/server/ui-assets.ts).
 * `npm run dev:ui` serves it with hot reload and proxies `/api` to a `cairn dev` on 7420.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  plugins: [react()],
  build: {
    outDir: "../dist/ui",
    emptyOutDir: true,
    // Readable stack traces in the browser without shipping the sources' size in the bundle.
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: { proxy: { "/api": "http://127.0.0.1:7420" } },
});
