import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/**
 * The storefront's build (`vite build` → dist/, served by the gateway at `/`) and its dev server
 * (`npm run dev:web`: hot reload, with `/api` and the JWKS proxied to a running platform, whose
 * gateway is on BLOSSOM_GATEWAY_URL, else 127.0.0.1:$PORT, else the gateway's default 8080).
 * Same origin either way, so the refresh cookie (SameSite=Strict, Path=/api/auth) just works.
 */
const gateway = process.env.BLOSSOM_GATEWAY_URL ?? `http://127.0.0.1:${process.env.PORT ?? "8080"}`;

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    // Modern browsers only: the shop uses ES2022 and `fetch` streaming.
    target: "es2022",
    // No inline script anywhere (the gateway's CSP forbids it); no source maps shipped.
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: {
    port: Number(process.env.WEB_DEV_PORT ?? 5173),
    strictPort: false,
    proxy: {
      "/api": { target: gateway, changeOrigin: false },
      "/.well-known": { target: gateway, changeOrigin: false },
    },
  },
});
