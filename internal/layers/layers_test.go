// Package layers holds the test that keeps the import graph as
// docs/architecture.md draws it: imports point down only.
package layers

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// allowed lists, per package of internal/, the Custos packages its
// non-test code may import. Anything not listed is refused; a new package
// must be placed here, on its floor.
var allowed = map[string][]string{
	"crm":        {},
	"i18n":       {"crm"},
	"httpx":      {"crm", "i18n", "service"}, // shared HTTP sits above the services
	"quality":    {"crm"},
	"access":     {"crm"},
	"vault":      {"crm"},
	"notify":     {"crm"},
	"transfer":   {"crm"}, // CSV/XLSX tables of strings in and out
	"store":      {"crm"},
	"audit":      {"crm", "store"},
	"backup":     {"crm", "audit", "store"},                      // backup files: snapshot rows, manifest, encryption
	"kernel":     {"crm", "access", "audit", "vault", "store"},   // what every service package shares
	"identity":   {"crm", "access", "kernel", "store", "vault"},  // sign-in, factors, sessions, tokens
	"compliance": {"crm", "access", "kernel", "store", "notify"}, // alerts, exposure reports, incidents: readers of the trail
	"service":    {"crm", "access", "quality", "audit", "backup", "vault", "notify", "store", "i18n", "kernel", "identity", "compliance", "transfer"},
	"api":        {"crm", "access", "httpx", "i18n", "service"},
	"web":        {"crm", "access", "httpx", "i18n", "service", "quality", "transfer"}, // transfer: a file's shape and column letters (import wizard)
	"demo":       {"crm", "access", "service"},
	"testdb":     {"crm", "store"},
	"tests3":     {"backup"},
	"testorg":    {"crm", "access", "service", "store", "testdb", "vault", "quality"},
	"testmatrix": {"crm", "access", "httpx", "quality", "service", "store", "testdb", "testorg", "vault"},
}

func TestImportsPointDown(t *testing.T) {
	dirs, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "layers" {
			continue
		}
		pkg := d.Name()
		ok, known := allowed[pkg]
		if !known {
			t.Errorf("internal/%s is on no floor: add it to allowed", pkg)
			continue
		}
		for _, imp := range imports(t, filepath.Join("..", pkg)) {
			if !slices.Contains(ok, imp) {
				t.Errorf("internal/%s imports internal/%s, which is not below it", pkg, imp)
			}
		}
	}
}

// imports returns the internal packages the non-test Go files of dir
// import (its subdirectories are helpers of its own floor and not read).
func imports(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, spec := range file.Imports {
			path, _ := strconv.Unquote(spec.Path.Value)
			if name, ok := strings.CutPrefix(path, "custos/internal/"); ok && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}
