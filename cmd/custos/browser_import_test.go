//go:build browser

package main

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestBrowserImport runs e2e/browser/import.mjs (issue 14, "Done when"): a
// sales rep imports a GBK CSV of customers through the wizard in zh-CN —
// sees the guessed encoding (gb18030) and the suggested mapping, maps one
// more column, previews the invalid row and the duplicate of a colleague's
// customer, commits, watches the job finish and sees the created count,
// downloads the problem rows, then undoes the import and no longer finds
// its customers. Built with the "browser" tag, like TestBrowserPasskey.
func TestBrowserImport(t *testing.T) {
	const password = "an import day passphrase"
	srv, reps := demoServer(t, "10", "1", password)

	// A colleague's customer, which the file's third row duplicates by phone.
	other, otherCSRF := signIn(t, srv, reps[1], password)
	const dupPhone = "13906900077"
	apiCreateCustomer(t, other, otherCSRF, "泉州旧识五金有限公司", dupPhone)

	// The file as Excel saves it in China: GBK. Its 手机 column is no
	// customer field's name, so the rep maps it to the phone by hand.
	csv := "客户名称,手机,邮箱,行业\r\n" +
		"鹭岛导入样例科技有限公司,13811110001,a@example.com,软件\r\n" +
		"榕城导入样例贸易有限公司,13811110002,不是邮箱,贸易\r\n" +
		"刺桐另一家五金公司,13906900077,,制造\r\n" +
		"漳州导入样例物流有限公司,13811110004,d@example.com,物流\r\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(csv)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "客户导入.csv")
	if err := os.WriteFile(file, []byte(gbk), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runBrowserScript(t, "import.mjs", "CUSTOS_BASE_URL="+srv.base, "CUSTOS_USER="+reps[0], "CUSTOS_PASSWORD="+password,
		"CUSTOS_IMPORT_FILE="+file)
	t.Logf("browser test: %s", out)
}
