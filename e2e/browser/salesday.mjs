// Browser test of a sales rep's day, run by cmd/custos TestBrowserSalesDay
// against a real server filled with demo data: Debian's Chromium, driven by
// playwright-core, in zh-CN, once at 1440×900 and once at 390×844 (a
// phone). Per viewport the rep signs in, finds a customer by a
// two-character Chinese name (the list's htmx filter) and by phone (the
// global search), creates a customer and is refused a duplicate of it, logs
// a follow-up on it, moves an opportunity to the next stage on the board
// and claims a customer from the public pool. Any console error, page error
// or CSP violation fails it. It prints one JSON line of results.
//
// Environment: CUSTOS_BASE_URL, CUSTOS_USER, CUSTOS_PASSWORD (the rep),
// CUSTOS_FIND_NAME, CUSTOS_FIND_BIGRAM and CUSTOS_FIND_PHONE (a customer the
// rep owns), CUSTOS_E2E_CHROMIUM, and CUSTOS_E2E_SCREENSHOTS=<dir> to keep a
// picture of each viewport at the end.
import { launchChromium, watchProblems } from "./launch.mjs";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = env("CUSTOS_BASE_URL");
const user = env("CUSTOS_USER");
const password = env("CUSTOS_PASSWORD");
const find = { name: env("CUSTOS_FIND_NAME"), bigram: env("CUSTOS_FIND_BIGRAM"), phone: env("CUSTOS_FIND_PHONE") };
const step = (what) => process.stderr.write(`sales day e2e: ${what}\n`);

function must(cond, what) {
  if (!cond) throw new Error(what);
}

const browser = await launchChromium();

// Each viewport creates its own customer: the names differ in their core
// words, so the duplicate check does not take one for the other.
const viewports = [
  { name: "desktop", width: 1440, height: 900, customer: "翠微文旅发展有限公司" },
  { name: "phone", width: 390, height: 844, customer: "青岚生态农业有限公司", mobile: true },
];

const results = [];
try {
  for (const vp of viewports) {
    results.push(await day(vp));
    if (process.env.CUSTOS_MANAGER) results.push(await managerView(vp));
  }
  console.log(JSON.stringify({ ok: true, viewports: results }));
} finally {
  await browser.close();
}

async function day(vp) {
  const context = await browser.newContext({
    locale: "zh-CN", timezoneId: "Asia/Shanghai",
    viewport: { width: vp.width, height: vp.height }, isMobile: !!vp.mobile, hasTouch: !!vp.mobile,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const problems = [];
  // Chromium logs a document answered with an error status as a console
  // error. The one refusal the day provokes (the duplicate, 409) is
  // expected once, at its own address; anything else is a problem.
  let expected = null;
  await watchProblems(context, page, problems, (m) => {
    const where = m.location().url || page.url();
    if (expected && where === expected.url && m.text().includes(`status of ${expected.status}`)) {
      expected = null;
      return true;
    }
    return false;
  });
  const at = (what) => step(`${vp.name}: ${what}`);
  // htmx answers are awaited by the response to the request a click or a
  // keystroke sent, never by a sleep.
  const htmx = (path, act) => Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === path && r.request().headers()["hx-request"] === "true"),
    act(),
  ]).then(([r]) => r);

  try {
    at("sign in");
    await page.goto(`${base}/login`);
    must((await page.getAttribute("html", "lang")) === "zh-CN", "the sign-in page is not in zh-CN");
    await page.fill("input[name=username]", user);
    await page.fill("input[name=password]", password);
    await Promise.all([page.waitForURL((u) => u.pathname !== "/login"), page.click("form[action='/login'] button")]);
    must(new URL(page.url()).pathname === "/", `after sign-in at ${page.url()}`);
    must(await page.isVisible("a[href='/account']"), "not signed in");

    at(`find a customer by the name ${find.bigram}`);
    await page.goto(`${base}/customers`);
    const filtered = await htmx("/customers", () => page.fill("#filters input[name=q]", find.bigram));
    must(filtered.status() === 200, `list filter answered ${filtered.status()}`);
    await page.locator("#results").getByRole("link", { name: find.name }).waitFor();
    must(new URL(page.url()).searchParams.get("q") === find.bigram, `the filter is not in the address: ${page.url()}`);

    at("find the customer by phone");
    if (await page.isVisible("form.nav-search input[name=q]")) {
      await page.fill("form.nav-search input[name=q]", find.phone);
      await Promise.all([page.waitForURL(/\/search\?/), page.press("form.nav-search input[name=q]", "Enter")]);
    } else {
      await page.goto(`${base}/search?q=${encodeURIComponent(find.phone)}`);
    }
    await page.locator("main").getByRole("link", { name: find.name }).waitFor();

    at(`create ${vp.customer}`);
    await page.goto(`${base}/customers/new`);
    await page.fill("form input[name=name]", vp.customer);
    await Promise.all([page.waitForURL(/\/customers\/\d+$/), page.click("main form button.primary")]);
    const created = page.url();
    must((await page.textContent("h1")).includes(vp.customer), "the new customer's page does not show its name");

    at("create it again and see the duplicate refusal");
    await page.goto(`${base}/customers/new`);
    await page.fill("form input[name=name]", vp.customer);
    expected = { url: `${base}/customers`, status: 409 };
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${base}/customers` && r.request().method() === "POST"),
      page.click("main form button.primary"),
    ]);
    await page.waitForLoadState("load");
    must(refused.status() === 409, `the duplicate answered ${refused.status()}`);
    must(new URL(page.url()).pathname === "/customers", `the duplicate was accepted: at ${page.url()}`);
    must(await page.isVisible("main .alert.error"), "no refusal shown for the duplicate");
    must((await page.getAttribute("form input[name=name]", "aria-invalid")) === "true", "the name field is not marked invalid");
    const refusal = await page.textContent("main form");
    must(/[\u4e00-\u9fff]/.test(refusal) && refusal.includes("已"), `the refusal is not in Chinese: ${refusal.slice(0, 200)}`);

    at("log a follow-up");
    await page.goto(created);
    const note = `${vp.name}：电话沟通，客户同意下周安排演示`;
    const content = "#timeline form textarea[name=content]";
    await page.fill(content, note);
    // A rep who drags the box bigger gives it a style attribute; the swap
    // must not copy that attribute by script, which the CSP refuses.
    await page.$eval(content, (el) => { el.style.height = "8em"; });
    const logged = await htmx(new URL(created).pathname + "/follow-ups", () => page.click("#timeline form button.primary"));
    must(logged.status() === 200, `follow-up answered ${logged.status()}`);
    await page.locator("#timeline .done").waitFor();
    must((await page.textContent("#timeline ol.timeline")).includes(note), "the follow-up is not in the timeline");

    at("move an opportunity to the next stage");
    await page.goto(`${base}/opportunities/board`);
    const card = page.locator(".column.kind-open article.opp-card").filter({ has: page.locator("form.move button.primary") }).first();
    const oppName = (await card.locator("h3 a").textContent()).trim();
    const next = card.locator("form.move button.primary");
    const target = (await next.textContent()).replace("→", "").trim();
    const oppPath = new URL(await card.locator("h3 a").getAttribute("href"), base).pathname;
    const moved = await htmx(`${oppPath}/stage`, () => next.click());
    must(moved.status() === 200, `the move answered ${moved.status()}`);
    const column = page.locator("#board section.column").filter({ has: page.locator("h2.column-head", { hasText: target }) });
    await column.getByRole("link", { name: oppName }).waitFor();

    at("claim a customer from the pool");
    await page.goto(`${base}/pool`);
    const row = page.locator("#results tbody tr").first();
    const poolName = (await row.locator("td a").first().textContent()).trim();
    const claimPath = new URL(await row.locator("form").getAttribute("action"), base).pathname;
    const claimed = await htmx(claimPath, () => row.locator("form button").click());
    must(claimed.status() === 200, `the claim answered ${claimed.status()}`);
    await row.locator(".done").waitFor();
    await page.goto(`${base}/customers?q=${encodeURIComponent(poolName)}`);
    await page.locator("#results").getByRole("link", { name: poolName }).waitFor();

    // The page a rep ends on must be usable at this width: nothing wider
    // than the screen but the tables and board that scroll on their own.
    await page.goto(created);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    must(overflow <= 0, `the customer page is ${overflow}px wider than the ${vp.name} screen`);
    if (process.env.CUSTOS_E2E_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.CUSTOS_E2E_SCREENSHOTS}/sales-day-${vp.width}x${vp.height}.png`, fullPage: true });
    }
    must(problems.length === 0, problems.join("\n"));
    return { viewport: `${vp.width}x${vp.height}`, created: vp.customer, moved: oppName, to: target, claimed: poolName };
  } catch (e) {
    // Say what the browser said before the failure: it is often the cause.
    if (problems.length > 0) e.message += `\nbrowser problems:\n${problems.join("\n")}`;
    throw e;
  } finally {
    await context.close();
  }
}

// dashboardView opens the dashboard from the navigation as the manager:
// every report's chart has drawn its canvas (ECharts from the vendored
// file, fed by the page's JSON under the strict CSP), every report's table
// has rows, the team's reports are there, and on a phone the page is no
// wider than the screen (tables scroll inside their cards).
async function dashboardView(page, vp, at) {
  at("the dashboard");
  await Promise.all([page.waitForURL((u) => u.pathname === "/dashboard"), page.click("nav a[href='/dashboard']")]);
  for (const id of ["funnel", "pipeline", "forecast", "trends", "activity", "win-rate", "cycle", "leaderboard", "pool"]) {
    must(await page.locator(`section#${id}`).count() === 1, `the manager's dashboard has no ${id} report`);
  }
  const charts = await page.locator(".chart[data-chart]").count();
  must(charts >= 10, `only ${charts} charts on the dashboard`);
  await page.waitForFunction(() => [...document.querySelectorAll(".chart[data-chart]")].every((c) => {
    const canvas = c.querySelector("canvas");
    return canvas && canvas.width > 0 && canvas.height > 0;
  }));
  // Tooltips are drawn on the canvas: hovering a bar shows one with no
  // style attribute for the CSP to block (a violation fails the test).
  await page.locator("#pipeline .chart canvas").first().hover();
  await page.locator("#trends .chart canvas").first().hover({ position: { x: 60, y: 120 } });
  const bare = await page.evaluate(() => [...document.querySelectorAll(".dash-report table")]
    .filter((t) => t.querySelectorAll("tbody tr").length === 0).map((t) => t.closest("section").id));
  must(bare.length === 0, `tables without rows in: ${bare.join(", ")}`);
  for (const id of ["funnel", "pipeline", "activity", "leaderboard"]) {
    const rows = await page.locator(`section#${id} tbody tr:not(:has(td.empty))`).count();
    must(rows > 0, `the ${id} table shows no figures`);
  }
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  must(overflow <= 0, `the dashboard is ${overflow}px wider than the ${vp.name} screen`);
  if (process.env.CUSTOS_E2E_SCREENSHOTS) {
    await page.screenshot({ path: `${process.env.CUSTOS_E2E_SCREENSHOTS}/manager-dashboard-${vp.width}x${vp.height}.png`, fullPage: true });
  }
  return { charts };
}

// managerView is a manager's look at the team at one viewport: Today with
// the team section, then the board filtered to a department, which shows
// its totals and at 1440 px fits without scrolling sideways, then the
// dashboard.
async function managerView(vp) {
  const context = await browser.newContext({
    locale: "zh-CN", timezoneId: "Asia/Shanghai",
    viewport: { width: vp.width, height: vp.height }, isMobile: !!vp.mobile, hasTouch: !!vp.mobile,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const problems = [];
  await watchProblems(context, page, problems, () => false);
  const at = (what) => step(`${vp.name}, manager: ${what}`);
  try {
    at("sign in");
    await page.goto(`${base}/login`);
    await page.fill("input[name=username]", process.env.CUSTOS_MANAGER);
    await page.fill("input[name=password]", password);
    await Promise.all([page.waitForURL((u) => u.pathname !== "/login"), page.click("form[action='/login'] button")]);
    at("the team on Today");
    await page.locator("#team table.team-table tbody tr").first().waitFor();
    const reps = await page.locator("#team table.team-table tbody tr").count();
    const overflowHome = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    must(overflowHome <= 0, `Today is ${overflowHome}px wider than the ${vp.name} screen`);
    const dept = await page.locator("#team select[name=department] option").nth(1).getAttribute("value");
    at(`the board of department ${dept}`);
    await page.goto(`${base}/opportunities/board?department=${dept}`);
    await page.locator("#board section.column").first().waitFor();
    must(await page.locator("#board .column-sums").count() > 0, "the filtered board shows no totals");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    must(overflow <= 0, `the board page is ${overflow}px wider than the ${vp.name} screen`);
    if (vp.width >= 1440) {
      const sideways = await page.evaluate(() => { const b = document.querySelector(".board"); return b.scrollWidth - b.clientWidth; });
      must(sideways <= 0, `the board scrolls sideways by ${sideways}px at ${vp.width}px`);
    }
    if (process.env.CUSTOS_E2E_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.CUSTOS_E2E_SCREENSHOTS}/manager-board-${vp.width}x${vp.height}.png`, fullPage: true });
    }
    const dashboard = await dashboardView(page, vp, at);
    must(problems.length === 0, problems.join("\n"));
    return { viewport: `${vp.width}x${vp.height}`, manager: true, reps, department: dept, dashboard };
  } catch (e) {
    if (problems.length > 0) e.message += `\nbrowser problems:\n${problems.join("\n")}`;
    throw e;
  } finally {
    await context.close();
  }
}
