package transfer

import (
	"bytes"
	"slices"
	"testing"
)

func TestNeutralize(t *testing.T) {
	cases := map[string]string{
		"":                  "",
		"张三":                "张三",
		"=1+1":              "'=1+1",
		"+86 138":           "'+86 138",
		"-5":                "'-5",
		"@SUM(A1:A2)":       "'@SUM(A1:A2)",
		"\t=cmd":            "'\t=cmd",
		"\r=cmd":            "'\r=cmd",
		"a=b":               "a=b",
		"'already":          "'already",
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
	}
	for in, want := range cases {
		if got := Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRoundTrip writes rows with each writer and reads them back: Chinese
// text, quotes, separators and line breaks survive; formula-leading values
// come back neutralised.
func TestRoundTrip(t *testing.T) {
	header := []string{"姓名", "手机", "备注"}
	in := [][]string{
		{"张三", "+8613800138000", "=HYPERLINK(\"http://evil\",\"点我\")"},
		{"李四, \"小李\"", "-1", "第一行\n第二行"},
		{"@王五", "13900139000", "plain"},
	}
	want := [][]string{
		{"张三", "'+8613800138000", "'=HYPERLINK(\"http://evil\",\"点我\")"},
		{"李四, \"小李\"", "'-1", "第一行\n第二行"},
		{"'@王五", "13900139000", "plain"},
	}
	writers := map[string]func(*bytes.Buffer) (Writer, error){
		"csv":     func(b *bytes.Buffer) (Writer, error) { return NewCSVWriter(b, false), nil },
		"csv bom": func(b *bytes.Buffer) (Writer, error) { return NewCSVWriter(b, true), nil },
		"xlsx":    func(b *bytes.Buffer) (Writer, error) { return NewXLSXWriter(b, "错误") },
	}
	for name, open := range writers {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := open(&buf)
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range append([][]string{header}, in...) {
				if err := w.WriteRow(row); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if name == "csv bom" && !bytes.HasPrefix(buf.Bytes(), utf8BOM) {
				t.Error("no BOM")
			}
			info, gotHeader, rows, bad, err := readAll(t, buf.Bytes(), "out."+name[:min(len(name), 4)], Options{})
			if err != nil || len(bad) > 0 {
				t.Fatalf("read back: %v %+v", err, bad)
			}
			if name == "xlsx" && info.Sheet != "错误" {
				t.Errorf("sheet %q", info.Sheet)
			}
			if !slices.Equal(gotHeader, header) {
				t.Errorf("header %q", gotHeader)
			}
			var got [][]string
			for _, r := range rows {
				got = append(got, r.Cells)
			}
			if !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("rows %q\nwant %q", got, want)
			}
		})
	}
	if _, err := NewXLSXWriter(&bytes.Buffer{}, "bad/name"); err == nil {
		t.Error("a sheet name with / was accepted")
	}
}
