// Browser test of the import wizard, run by cmd/custos TestBrowserImport
// against a real server: Debian's Chromium, driven by playwright-core, in
// zh-CN. A sales rep opens the wizard from the menu, uploads a GBK CSV of
// customers, sees the guessed encoding (gb18030) and the suggested mapping,
// maps the 手机 column to the phone, previews again and sees the invalid
// row and the duplicate of a colleague's customer, commits, watches the
// progress until the job is done (the page polls a fragment), sees the
// created count, downloads the problem rows as CSV, undoes the import and
// no longer finds its customers in the list. Any console error, page error
// or CSP violation fails it. It prints one JSON line of results.
//
// Environment: CUSTOS_BASE_URL, CUSTOS_USER, CUSTOS_PASSWORD (the rep),
// CUSTOS_IMPORT_FILE (the GBK file), CUSTOS_E2E_CHROMIUM.
import { readFile } from "node:fs/promises";
import { launchChromium, watchProblems } from "./launch.mjs";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = env("CUSTOS_BASE_URL");
const file = env("CUSTOS_IMPORT_FILE");
const step = (what) => process.stderr.write(`import e2e: ${what}\n`);

function must(cond, what) {
  if (!cond) throw new Error(what);
}

const created = ["鹭岛导入样例科技有限公司", "漳州导入样例物流有限公司"];
const browser = await launchChromium();
const context = await browser.newContext({ locale: "zh-CN", timezoneId: "Asia/Shanghai", acceptDownloads: true });
const page = await context.newPage();
page.setDefaultTimeout(20000);
const problems = [];
await watchProblems(context, page, problems);
const count = async (what) => Number((await page.textContent(`#import-counts [data-count=${what}]`)).trim());

try {
  step("sign in");
  await page.goto(`${base}/login`);
  await page.fill("input[name=username]", env("CUSTOS_USER"));
  await page.fill("input[name=password]", env("CUSTOS_PASSWORD"));
  await Promise.all([page.waitForURL((u) => u.pathname !== "/login"), page.click("form[action='/login'] button")]);

  step("open the wizard from the menu");
  await Promise.all([page.waitForURL(/\/imports$/), page.click("nav a[href='/imports']")]);
  must((await page.textContent("nav a[href='/imports']")).trim() === "导入", "the menu entry is not 导入");

  step("upload the GBK file");
  await page.selectOption("#import-object", "customer");
  await page.fill("#import-source", "旧表格");
  await page.setInputFiles("#import-file", file);
  await Promise.all([page.waitForURL(/\/imports\/\d+$/), page.click("#new-import button.primary")]);
  const wizard = page.url();

  step("see the encoding guess and the suggested mapping");
  must((await page.textContent("#import-detected")).includes("gb18030"), "the encoding guess is not shown as gb18030");
  must((await page.inputValue("#import-encoding")) === "gb18030", "the encoding in use is not gb18030");
  must((await page.inputValue("select[data-header='客户名称']")) === "name", "客户名称 is not suggested as the name");
  must((await page.inputValue("select[data-header='邮箱']")) === "email", "邮箱 is not suggested as the e-mail");
  must((await page.inputValue("select[data-header='手机']")) === "", "手机 should not be mapped for customers");
  must(await count("duplicates") === 0, "a duplicate found before the phone is mapped");

  step("map 手机 to the phone and preview again");
  await page.selectOption("select[data-header='手机']", "phone");
  await Promise.all([page.waitForURL(wizard), page.click("#mapping button")]);
  must((await page.inputValue("select[data-header='手机']")) === "phone", "the new mapping was not kept");
  const rows = await page.textContent("#import-rows");
  must(rows.includes("榕城导入样例贸易有限公司") && rows.includes("电子邮箱"), `the invalid row is not shown: ${rows}`);
  must(rows.includes("刺桐另一家五金公司") && rows.includes("疑似重复") && rows.includes("已存在"), `the duplicate is not shown: ${rows}`);
  must(await count("created") === 2 && await count("failed") === 1 && await count("duplicates") === 1,
    "the preview does not plan 2 creations, 1 failure and 1 duplicate");

  step("download the problem rows");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(`#import-rows a[href$='format=csv']`)]);
  const errors = await readFile(await download.path(), "utf8");
  must(errors.includes("榕城导入样例贸易有限公司") && errors.includes("刺桐另一家五金公司"), `the error file lacks the rows: ${errors}`);

  step("commit and watch it finish");
  await Promise.all([page.waitForURL(wizard), page.click("#commit button")]);
  // The job runs every 2 s in serve; the page polls its progress every
  // second and reloads once it is over.
  await page.locator("#import-status", { hasText: "已完成" }).waitFor({ timeout: 60000 });
  must(await count("created") === 2, `created ${await count("created")}, want 2`);

  step("the customers are there");
  await page.goto(`${base}/customers?q=${encodeURIComponent("鹭岛")}`);
  await page.locator("#results").getByRole("link", { name: created[0] }).waitFor();

  step("undo");
  await page.goto(wizard);
  await Promise.all([page.waitForURL(/\/undo$/), page.click("#undo a.btn")]);
  await Promise.all([page.waitForLoadState("load"), page.click("#undo form button")]);
  const undone = await page.textContent("#undo-result");
  must(undone.includes("2 条记录已移入回收站"), `the undo says: ${undone}`);

  step("the customers are gone");
  for (const name of created) {
    await page.goto(`${base}/customers?q=${encodeURIComponent(name.slice(0, 2))}`);
    must(!(await page.locator("#results").textContent()).includes(name), `${name} is still listed after the undo`);
  }
  must(problems.length === 0, problems.join("\n"));
  console.log(JSON.stringify({ ok: true, import: new URL(wizard).pathname, created, undone: created.length }));
} catch (e) {
  if (problems.length > 0) e.message += `\nbrowser problems:\n${problems.join("\n")}`;
  throw e;
} finally {
  await browser.close();
}
