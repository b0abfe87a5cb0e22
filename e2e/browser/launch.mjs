// Launches Debian's Chromium (CUSTOS_E2E_CHROMIUM, default
// /usr/bin/chromium) the same way for every browser test: headless, no
// sandbox (CI runs as root), no GPU, and nothing that phones home or
// updates itself during a run. playwright-core gives each launch a fresh
// temporary profile (--user-data-dir) and removes it at close.
import { chromium } from "playwright-core";

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CUSTOS_E2E_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
