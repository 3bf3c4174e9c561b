/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// Tauri sets TAURI_DEV_HOST when developing on a phone or another machine on the network.
const host = process.env.TAURI_DEV_HOST;

export default defineConfig({
  // Tauri expects a fixed port and shows Rust errors itself.
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    host: host || false,
    hmr: host ? { protocol: "ws", host, port: 1421 } : undefined,
    watch: { ignored: ["**/src-tauri/**"] },
  },
  envPrefix: ["VITE_", "TAURI_ENV_*"],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The webviews Tauri 2 runs on: WebView2 (Chromium) on Windows, WebKit on macOS and Linux.
    target: ["es2021", "chrome105", "safari15"],
    // No inline scripts anywhere: the app runs under a strict CSP.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.ts"],
    restoreMocks: true,
    // Turkey's time zone, so "today", "yesterday" and local midnight are tested as users see them.
    env: { TZ: "Europe/Istanbul" },
  },
});
