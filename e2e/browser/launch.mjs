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

// watchProblems reports a page's errors, console errors and CSP violations
// (a violation is logged on the console too, but only this event says which
// directive and where, whatever the browser version logs) into problems.
// accept may excuse a console error that a test provokes on purpose.
export async function watchProblems(context, page, problems, accept = () => false) {
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() !== "error" || accept(m)) return;
    problems.push(`console (${m.location().url || page.url()}): ${m.text()}`);
  });
}
