package i18n

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"custos/internal/crm"
)

// TestValidationSpeaksTheCatalog reads the source of every package and
// finds each field name and rule that validation can put into an error —
// Problems.Add("field", "rule"), the Text/Enum/Date/URL/Tags checks,
// crm.FieldError{Field: …, Rule: …} literals, the body decoder's and custom
// fields' problems, LabelAs keys — and checks that the catalog names every
// one in both languages, so a user never sees a raw key such as
// "field.limit" or "rule.year_range" again. Fields built at run time
// ("custom.<key>") carry their definition's label instead.
func TestValidationSpeaksTheCatalog(t *testing.T) {
	fields, rules, keys := map[string]string{}, map[string]string{}, map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			at := func(e ast.Node) string { return fset.Position(e.Pos()).String() }
			switch n := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				case *ast.Ident:
					name = fn.Name
				}
				arg := func(i int) (string, bool) {
					if i >= len(n.Args) {
						return "", false
					}
					return stringLit(n.Args[i])
				}
				switch name {
				case "Add": // (*crm.Problems).Add(field, rule, param...)
					f, okF := arg(0)
					r, okR := arg(1)
					if !okR || !ruleName.MatchString(r) || len(n.Args) > 3 {
						return true // another Add (url.Values, sync.WaitGroup)
					}
					rules[r] = at(n)
					if okF {
						fields[f] = at(n)
					}
				case "Text", "Enum", "Date", "URL", "Tags":
					arity := map[string]int{"Text": 4, "Enum": 4, "Date": 3, "URL": 2, "Tags": 3}[name]
					if f, ok := arg(0); ok && len(n.Args) == arity && !internalOnly[f] {
						fields[f] = at(n)
					}
				case "bodyProblem": // httpx: (key, field, rule, param, message)
					if k, ok := arg(0); ok {
						keys[k] = at(n)
					}
					if f, ok := arg(1); ok {
						fields[f] = at(n)
					}
					if r, ok := arg(2); ok {
						rules[r] = at(n)
					}
				case "customProblem": // service: (definition, rule), labelled by the definition
					if r, ok := arg(1); ok {
						rules[r] = at(n)
					}
				case "LabelAs":
					if k, ok := arg(1); ok {
						if !has(k) {
							t.Errorf("%s: label key %q is not in the catalog", at(n), k)
						}
					}
				}
			case *ast.AssignStmt: // rule := "integer", in the decoder's type check
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name == "rule" && i < len(n.Rhs) {
						if r, ok := stringLit(n.Rhs[i]); ok {
							rules[r] = at(l)
						}
					}
				}
			case *ast.FuncDecl: // a custom value's check returns (value, rule)
				if n.Name.Name != "customValue" && n.Name.Name != "multiValue" {
					return true
				}
				ast.Inspect(n.Body, func(m ast.Node) bool {
					if ret, ok := m.(*ast.ReturnStmt); ok && len(ret.Results) == 2 {
						if r, ok := stringLit(ret.Results[1]); ok && r != "" {
							rules[r] = at(ret)
						}
					}
					return true
				})
			case *ast.CompositeLit:
				for _, e := range n.Elts {
					kv, ok := e.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					k, _ := kv.Key.(*ast.Ident)
					v, ok := stringLit(kv.Value)
					if k == nil || !ok {
						continue
					}
					switch k.Name {
					case "Field":
						fields[v] = at(kv)
					case "Rule":
						rules[v] = at(kv)
					case "Key":
						if isErrorType(n.Type) {
							keys[v] = at(kv)
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"0001-01-01", "2026-02-30"} { // rules of the date checks
		rules[crm.CheckDate(d)] = "crm.CheckDate"
	}
	if len(rules) < 40 || len(fields) < 80 {
		t.Fatalf("found only %d rules and %d fields: is the source walk still finding them?", len(rules), len(fields))
	}
	for _, lang := range []string{ZH, EN} {
		for _, f := range slices.Sorted(maps.Keys(fields)) {
			if strings.HasPrefix(f, "custom.") || f == "" {
				continue
			}
			if name := FieldName(lang, f); name == f && !has("field."+f) {
				t.Errorf("%s: field %q has no label in %s (%s)", fields[f], f, lang, name)
			}
		}
		for _, r := range slices.Sorted(maps.Keys(rules)) {
			if !has("rule." + r) {
				t.Errorf("%s: rule %q has no sentence in %s", rules[r], r, lang)
			}
			if msg := FieldMessage(lang, crm.FieldError{Field: "name", Rule: r}); strings.Contains(msg, "rule.") || strings.Contains(msg, "field.") {
				t.Errorf("rule %q shows a raw key: %q", r, msg)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			if !has("error." + k) {
				t.Errorf("%s: error key %q has no sentence", keys[k], k)
			}
		}
	}
}

// internalOnly are field names used in a check whose problems never reach
// a user (custom.go checks a custom URL value with a throwaway Problems).
var internalOnly = map[string]bool{"x": true}

// ruleName is what a validation rule looks like: a short snake_case word.
var ruleName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// isErrorType reports whether a literal's type is crm.Error.
func isErrorType(e ast.Expr) bool {
	switch t := e.(type) {
	case *ast.SelectorExpr:
		return t.Sel.Name == "Error" && fmt.Sprint(t.X) == "crm"
	case *ast.Ident:
		return t.Name == "Error"
	}
	return false
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}
