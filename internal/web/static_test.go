package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"custos/internal/store"
	"custos/internal/testdb"
)

func TestStaticAssets(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		css, err := s.srv.assets.url("app.css")
		if err != nil {
			t.Fatal(err)
		}
		htmx, _ := s.srv.assets.url(htmxFile)
		if !regexp.MustCompile(`^/static/app\.[0-9a-f]{10}\.css$`).MatchString(css) {
			t.Errorf("css URL %q has no content hash", css)
		}
		for _, tc := range []struct {
			path        string
			wantStatus  int
			contentType string
		}{
			{css, 200, "text/css; charset=utf-8"},
			{htmx, 200, "text/javascript; charset=utf-8"},
			{"/static/app.css", 404, ""},
			{"/static/app.0000000000.css", 404, ""},
		} {
			rec := s.do(nil, "GET", tc.path, nil, nil)
			if rec.Code != tc.wantStatus {
				t.Errorf("%s: status %d, want %d", tc.path, rec.Code, tc.wantStatus)
				continue
			}
			if tc.wantStatus != 200 {
				continue
			}
			if got := rec.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
				t.Errorf("%s: Cache-Control %q", tc.path, got)
			}
			if got := rec.Header().Get("Content-Type"); got != tc.contentType {
				t.Errorf("%s: Content-Type %q, want %q", tc.path, got, tc.contentType)
			}
		}
		// The page links the hashed URLs, and no inline script or style
		// exists for the CSP to block.
		rec := s.do(nil, "GET", "/login", nil, nil)
		body := rec.Body.String()
		for _, want := range []string{`href="` + css + `"`, `src="` + htmx + `"`} {
			if !strings.Contains(body, want) {
				t.Errorf("login page does not link %s", want)
			}
		}
		if regexp.MustCompile(`<script>|<script [^>]*>[^<]|style="|<style`).MatchString(body) {
			t.Error("login page has inline script or style")
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("CSP %q", csp)
		}
	})
}

// TestCatalogKeys checks that both message catalogs hold the same keys and
// that every key the templates and handlers use exists, so no page shows a
// raw key or falls back to English in the Chinese interface.
func TestCatalogKeys(t *testing.T) {
	en, zh := catalogKeys(t)
	for k := range en {
		if !zh[k] {
			t.Errorf("key %q is in en but not in zh", k)
		}
	}
	for k := range zh {
		if !en[k] {
			t.Errorf("key %q is in zh but not in en", k)
		}
	}
	used := regexp.MustCompile(`(?:\.T|\.Tf|T\(|Tf\(|page\(r, (?:a|nil),|adminPage\(r, a,|Options\([^)]*,) ?"([a-z_]+\.[a-z_.]+)"`)
	var sources []string
	fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := templateFS.ReadFile(p)
			sources = append(sources, string(b))
		}
		return err
	})
	goFiles, _ := fs.Glob(os.DirFS("."), "*.go")
	for _, f := range goFiles {
		if !strings.HasSuffix(f, "_test.go") {
			b, _ := fs.ReadFile(os.DirFS("."), f)
			sources = append(sources, string(b))
		}
	}
	n := 0
	for _, src := range sources {
		for _, m := range used.FindAllStringSubmatch(src, -1) {
			n++
			if key := m[1]; !en[key] && !strings.HasSuffix(key, ".") {
				t.Errorf("key %q is used but not in the catalogs", key)
			}
		}
	}
	if n < 100 {
		t.Errorf("found only %d key uses; is the pattern still right?", n)
	}
}

// catalogKeys reads the keys of the en and zh maps from the i18n source.
func catalogKeys(t *testing.T) (en, zh map[string]bool) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../i18n/catalog.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	maps := map[string]map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Values) != 1 {
			return true
		}
		lit, ok := vs.Values[0].(*ast.CompositeLit)
		if !ok {
			return true
		}
		keys := map[string]bool{}
		for _, e := range lit.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				if bl, ok := kv.Key.(*ast.BasicLit); ok {
					k, _ := strconv.Unquote(bl.Value)
					keys[k] = true
				}
			}
		}
		maps[vs.Names[0].Name] = keys
		return false
	})
	if len(maps["en"]) == 0 || len(maps["zh"]) == 0 {
		t.Fatalf("could not read the catalogs: %d en, %d zh", len(maps["en"]), len(maps["zh"]))
	}
	return maps["en"], maps["zh"]
}
