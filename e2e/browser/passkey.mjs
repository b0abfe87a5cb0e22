// Browser test of passkeys, run by cmd/custos TestBrowserPasskey against a
// real server: Debian's Chromium, driven by playwright-core, with a CDP
// WebAuthn virtual authenticator. It signs in with the one-time password,
// sets a new one, is taken to the second-factor set-up (the administrator
// role requires one) and registers a passkey there, signs
// out, and signs in again with the password and the passkey. Any page
// error or CSP violation fails it. It prints one JSON line of results.
import { launchChromium } from "./launch.mjs";

const base = process.env.CUSTOS_BASE_URL;
const user = process.env.CUSTOS_USER;
const oneTime = process.env.CUSTOS_PASSWORD;
const password = "a browser test passphrase";
const step = (what) => process.stderr.write(`passkey e2e: ${what}\n`);
// CUSTOS_E2E_SCREENSHOTS=<dir> keeps a picture of each page the test checks.
const shot = async (page, name) => {
  if (process.env.CUSTOS_E2E_SCREENSHOTS) await page.screenshot({ path: `${process.env.CUSTOS_E2E_SCREENSHOTS}/${name}.png`, fullPage: true });
};

function must(cond, what) {
  if (!cond) throw new Error(what);
}

const browser = await launchChromium();
const problems = [];
try {
  const context = await browser.newContext({ locale: "en-US" });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });

  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true },
  });

  step("sign in with the one-time password");
  await page.goto(`${base}/login`);
  await page.fill("#f-username, input[name=username]", user);
  await page.fill("input[name=password]", oneTime);
  await Promise.all([page.waitForURL(/\/account\/password/), page.click("form[action='/login'] button")]);
  await page.fill("input[name=current_password]", oneTime);
  await page.fill("input[name=new_password]", password);
  await page.fill("input[name=confirm_password]", password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/account/password")), page.click("form[action='/account/password'] button")]);
  // The administrator role requires a second factor: its set-up comes next.
  must(new URL(page.url()).pathname === "/account/mfa", `after the password change: ${page.url()}, want the second-factor set-up`);
  await page.goto(`${base}/customers`);
  must(new URL(page.url()).pathname === "/account/mfa", `before a second factor /customers opened: ${page.url()}`);

  step("register a passkey");
  await page.goto(`${base}/account/mfa`);
  must(await page.isVisible("form[data-passkey-create]"), "the add-a-passkey form is hidden: the script did not run");
  must(!(await page.isVisible("[data-passkey-unsupported]")), "the page says passkeys are unsupported");
  await page.fill("form[data-passkey-create] input[name=name]", "Chromium virtual authenticator");
  await Promise.all([page.waitForLoadState("load"), page.click("form[data-passkey-create] button")]);
  await page.waitForSelector("ul.codes");
  const codes = await page.$$eval("ul.codes code", (els) => els.map((e) => e.textContent));
  must(codes.length === 10, `recovery codes shown: ${codes.length}`);
  let { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  must(credentials.length === 1, `credentials in the authenticator: ${credentials.length}`);

  step("sign out");
  await page.goto(`${base}/account/mfa`);
  const names = await page.$$eval("#passkeys li input[name=name]", (els) => els.map((e) => e.value));
  await shot(page, "mfa-page");
  must(names.length === 1 && names[0] === "Chromium virtual authenticator", `passkeys listed: ${names}`);
  await Promise.all([page.waitForURL(/\/login/), page.click("form[action='/logout'] button")]);

  step("sign in with password and passkey");
  await page.goto(`${base}/login`);
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL(/\/login\/mfa/), page.click("form[action='/login'] button")]);
  must(await page.isVisible("[data-passkey-get]"), "the passkey button is hidden");
  await shot(page, "second-step");
  await Promise.all([page.waitForURL((u) => u.pathname === "/"), page.click("[data-passkey-get]")]);
  must(await page.isVisible("a[href='/account']"), "not signed in after the passkey");

  await page.goto(`${base}/account/mfa`);
  const listed = await page.textContent("#passkeys");
  must(!listed.includes("last used Not yet"), "the passkey's use was not recorded");
  ({ credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId }));
  must(credentials[0].signCount >= 1, `sign count ${credentials[0].signCount}`);
  must(problems.length === 0, problems.join("\n"));
  console.log(JSON.stringify({ ok: true, recoveryCodes: codes.length, signCount: credentials[0].signCount }));
} finally {
  await browser.close();
}
