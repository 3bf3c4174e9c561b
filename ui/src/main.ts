import "./styles.css";
import { startApp } from "./app";

async function main(): Promise<void> {
  const root = document.getElementById("app");
  if (!root) return;
  // `npm run dev` in a plain browser (no Tauri): ?demo serves sample data for trying the UI.
  if (import.meta.env.DEV && new URLSearchParams(location.search).has("demo")) {
    const { installDemoBackend } = await import("./dev/demo");
    installDemoBackend();
  }
  await startApp(root);
}

void main();
