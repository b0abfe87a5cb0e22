package transfer

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"custos/internal/crm"
	"custos/internal/i18n"
)

// readAll opens data and reads every row, returning the header, the rows,
// the row errors and the file-level error (from Open or Next).
func readAll(t *testing.T, data []byte, name string, opt Options) (Info, []string, []Row, []*RowError, error) {
	t.Helper()
	rd, info, err := Open(bytes.NewReader(data), int64(len(data)), name, opt)
	if err != nil {
		return info, nil, nil, nil, err
	}
	defer rd.Close()
	var rows []Row
	var bad []*RowError
	for {
		row, err := rd.Next()
		var re *RowError
		switch {
		case errors.Is(err, io.EOF):
			return info, rd.Header(), rows, bad, nil
		case errors.As(err, &re):
			bad = append(bad, re)
		case err != nil:
			return info, rd.Header(), rows, bad, err
		default:
			rows = append(rows, row)
		}
	}
}

// fileRule is the rule and param of a file-level error, or "" if err is not one.
func fileRule(err error) (string, string) {
	var e *crm.Error
	if !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "file" || e.Code != crm.Invalid || e.Key != e.Fields[0].Rule {
		return "", ""
	}
	return e.Fields[0].Rule, e.Fields[0].Param
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadCSV(t *testing.T) {
	contacts := "姓名,手机\n张三,13800138000\n李四,13900139000\n"
	want := [][]string{{"张三", "13800138000"}, {"李四", "13900139000"}}
	cases := []struct {
		name     string
		data     []byte
		opt      Options
		encoding string
		header   []string
		rows     [][]string
		lines    []int
		errs     []string // "line:rule" of row errors
	}{
		{name: "utf-8", data: []byte(contacts), encoding: "utf-8", rows: want, lines: []int{2, 3}},
		{name: "bom", data: append(slices.Clone(utf8BOM), contacts...), encoding: "utf-8-bom", rows: want},
		{name: "gbk", data: gbk(t, "姓名,手机\n张三,13800138000"), encoding: "gb18030", rows: want[:1]},
		{name: "gbk crlf", data: gbk(t, "姓名,手机\r\n张三,13800138000\r\n李四,13900139000\r\n"), encoding: "gb18030", rows: want},
		{name: "gbk chosen", data: gbk(t, contacts), opt: Options{Encoding: "gbk"}, encoding: "gb18030", rows: want},
		{name: "semicolon", data: []byte("姓名;手机\n张三;13800138000\n李四;13900139000\n"), encoding: "utf-8", rows: want},
		{name: "tab", data: []byte("姓名\t手机\n张三\t13800138000\n李四\t13900139000\n"), encoding: "utf-8", rows: want},
		{name: "quoted separator in header", data: []byte("\"a;b\",c\n1,2\n"), encoding: "utf-8", header: []string{"a;b", "c"}, rows: [][]string{{"1", "2"}}},
		{name: "header trimmed, trailing empty names dropped", data: []byte(" 姓名 ,手机,,\n张三,13800138000,,\n"), encoding: "utf-8", header: []string{"姓名", "手机"}, rows: want[:1]},
		{
			name: "ragged", encoding: "utf-8",
			data:  []byte("姓名,手机,邮箱\n张三\n\n,,\n李四,139,a@b.cn,extra\n王五,137,,,\n"),
			rows:  [][]string{{"张三", "", ""}, {"王五", "137", ""}},
			lines: []int{2, 6}, errs: []string{"5:ragged"},
		},
		{
			name: "multi-line cell counts as one row", encoding: "utf-8",
			data:  []byte("名称,备注\nA,\"第一行\n第二行\"\nB,x\n"),
			rows:  [][]string{{"A", "第一行\n第二行"}, {"B", "x"}},
			lines: []int{2, 3},
		},
		{
			name: "bare quote is a row error, reading goes on", encoding: "utf-8",
			data:  []byte("a,b\n1,x\"y\n2,z\n"),
			rows:  [][]string{{"2", "z"}},
			lines: []int{3}, errs: []string{"2:quote"},
		},
		{
			name: "unbalanced quote at the end", encoding: "utf-8",
			data:  []byte("a,b\n1,2\n3,\"never closed\n4,5\n"),
			rows:  [][]string{{"1", "2"}},
			errs:  []string{"3:quote"},
			lines: []int{2},
		},
		{
			name: "cell over the limit", encoding: "utf-8", opt: Options{MaxCellBytes: 8},
			data:  []byte("a,b\n1,123456789\n2,12345678\n"),
			rows:  [][]string{{"2", "12345678"}},
			errs:  []string{"2:cell_too_large"},
			lines: []int{3},
		},
		{
			name: "line over the limit is skipped, not held", encoding: "utf-8", opt: Options{MaxCellBytes: 4, MaxColumns: 2},
			data:  []byte("a,b\n1," + strings.Repeat("x", 20000) + "\n2,y\n"),
			rows:  [][]string{{"2", "y"}},
			errs:  []string{"2:cell_too_large"},
			lines: []int{3},
		},
		{
			name: "formula-leading values are read as typed", encoding: "utf-8",
			data: []byte("a,b\n=1+1,@SUM(A1)\n"),
			rows: [][]string{{"=1+1", "@SUM(A1)"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info, header, rows, bad, err := readAll(t, c.data, "contacts.csv", c.opt)
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if info.Format != "csv" || info.Encoding != c.encoding {
				t.Errorf("info %+v, want csv %s", info, c.encoding)
			}
			wantHeader := c.header
			if wantHeader == nil && len(c.rows) > 0 && len(c.rows[0]) == 2 && c.rows[0][0] == "张三" {
				wantHeader = []string{"姓名", "手机"}
			}
			if wantHeader != nil && !slices.Equal(header, wantHeader) {
				t.Errorf("header %q, want %q", header, wantHeader)
			}
			var got [][]string
			var lines []int
			for _, r := range rows {
				got = append(got, r.Cells)
				lines = append(lines, r.Line)
			}
			if !slices.EqualFunc(got, c.rows, slices.Equal) {
				t.Errorf("rows %q, want %q", got, c.rows)
			}
			if c.lines != nil && !slices.Equal(lines, c.lines) {
				t.Errorf("lines %v, want %v", lines, c.lines)
			}
			var errs []string
			for _, e := range bad {
				errs = append(errs, strings.Join([]string{strconv.Itoa(e.Line), e.Rule}, ":"))
				if e.Param != strconv.Itoa(e.Line) {
					t.Errorf("row error %+v: param is not its line", e)
				}
				for _, cell := range e.Raw {
					if len(cell) > max(c.opt.MaxCellBytes, 0) && c.opt.MaxCellBytes > 0 {
						t.Errorf("raw cell of %d bytes kept", len(cell))
					}
				}
			}
			if !slices.Equal(errs, c.errs) {
				t.Errorf("row errors %v, want %v", errs, c.errs)
			}
		})
	}
}

func TestReadCSVFileErrors(t *testing.T) {
	big := strings.Repeat("1,2\n", 20000) // past the sample
	cases := []struct {
		name  string
		data  []byte
		opt   Options
		rule  string
		param string
	}{
		{name: "empty", data: nil, rule: "empty_file"},
		{name: "only blank lines", data: []byte("\n\n\r\n"), rule: "empty_file"},
		{name: "header only", data: []byte("姓名,手机\n"), rule: "empty_file"},
		{name: "header and empty rows", data: []byte("姓名,手机\n,\n\n"), rule: "empty_file"},
		{name: "duplicate header", data: []byte("姓名,手机,姓名\n1,2,3\n"), rule: "header", param: "C"},
		{name: "empty header name", data: []byte("姓名,,手机\n1,2,3\n"), rule: "header", param: "B"},
		{name: "too many columns", data: []byte("a,b,c\n1,2,3\n"), opt: Options{MaxColumns: 2}, rule: "columns", param: "2"},
		{name: "NUL bytes", data: []byte("a,b\n1,2\n\x00\x01\x02garbage\n"), rule: "binary", param: "3"},
		{name: "NUL after the sample", data: []byte("a,b\n" + big + "3,\x00\n"), rule: "binary", param: "20002"},
		{name: "neither utf-8 nor gb18030", data: []byte("a,b\n1,\xff\xfe\xff\n"), rule: "file_encoding", param: "2"},
		{name: "utf-16", data: []byte("\xff\xfea\x00,\x00b\x00"), rule: "file_encoding", param: "1"},
		{name: "invalid utf-8 after the sample", data: []byte("a,b\n" + big + "3,\xe5\xbc\n4,5\n"), rule: "file_encoding", param: "20002"},
		{name: "gbk after an ascii sample", data: append([]byte("a,b\n"+big), gbk(t, "张三,1\n")...), rule: "file_encoding", param: "20002"},
		{name: "wrong encoding chosen", data: gbk(t, "姓名,手机\n张三,13800138000\n"), opt: Options{Encoding: "utf-8"}, rule: "file_encoding", param: "1"},
		{name: "xlsx by name, not by content", data: []byte("a,b\n1,2\n"), rule: "xlsx"},
		{name: "zip garbage", data: []byte("PK\x03\x04garbage that is no zip archive"), rule: "xlsx"},
		{name: "old xls / encrypted", data: append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, "junk"...), rule: "xlsx"},
		{name: "quote never closed across a huge record", data: []byte("a,b\n1,\"" + strings.Repeat("x\n", 50000)), opt: Options{MaxCellBytes: 16, MaxColumns: 2}, rule: "quote", param: "2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := "f.csv"
			if c.name == "xlsx by name, not by content" {
				name = "f.xlsx"
			}
			_, _, _, _, err := readAll(t, c.data, name, c.opt)
			rule, param := fileRule(err)
			if rule != c.rule || (c.param != "" && param != c.param) {
				t.Fatalf("error %v (rule %q param %q), want rule %q param %q", err, rule, param, c.rule, c.param)
			}
		})
	}
}

// TestWrongGuessOverridden: a GBK file whose sample is plain ASCII is
// guessed UTF-8 and fails at the first Chinese line; the user's choice of
// GB18030 reads it.
func TestWrongGuessOverridden(t *testing.T) {
	data := append([]byte("name,phone\n"+strings.Repeat("Zhang San,13800138000\n", 4000)), gbk(t, "张三,13800138000\n")...)
	if _, _, _, _, err := readAll(t, data, "f.csv", Options{}); err == nil {
		t.Fatal("a GBK line after an ASCII sample was read as UTF-8")
	}
	info, _, rows, _, err := readAll(t, data, "f.csv", Options{Encoding: "gb18030"})
	if err != nil || info.Encoding != "gb18030" {
		t.Fatalf("override: %v %+v", err, info)
	}
	if last := rows[len(rows)-1]; last.Cells[0] != "张三" || last.Line != 4002 {
		t.Errorf("last row %+v", last)
	}
	if _, _, err := Open(bytes.NewReader(data), int64(len(data)), "f.csv", Options{Encoding: "latin1"}); err == nil {
		t.Error("an unknown encoding was accepted")
	}
}

// hugeCell yields a CSV whose second line is one cell of n bytes, made up
// as it is read: the test never holds it.
type hugeCell struct {
	n, off int64
}

const hugeHead = "name,note\nA,"

func (h *hugeCell) ReadAt(p []byte, off int64) (int, error) {
	total := int64(len(hugeHead)) + h.n + int64(len("\nB,ok\n"))
	if off >= total {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off < total {
		switch {
		case off < int64(len(hugeHead)):
			p[n] = hugeHead[off]
		case off < int64(len(hugeHead))+h.n:
			p[n] = 'x'
		default:
			p[n] = "\nB,ok\n"[off-int64(len(hugeHead))-h.n]
		}
		n++
		off++
	}
	if off >= total {
		return n, io.EOF
	}
	return n, nil
}

func (h *hugeCell) size() int64 { return int64(len(hugeHead)) + h.n + int64(len("\nB,ok\n")) }

// TestHugeCell: a 100 MB cell is one row error; the reader neither holds it
// nor stops, and the next row is read. Memory is bounded by the line limit
// (MaxColumns×MaxCellBytes, 12.8 MB by default; encoding/csv copies a line
// a few times), not by the cell: with a 1 MB limit, reading the 100 MB cell
// allocates a few MB in all.
func TestHugeCell(t *testing.T) {
	for _, c := range []struct {
		opt   Options
		bound uint64
	}{{Options{}, 100 << 20}, {Options{MaxColumns: 16}, 16 << 20}} {
		h := &hugeCell{n: 100 << 20}
		var before, after runtimeMem
		before.read()
		rd, _, err := Open(h, h.size(), "big.csv", c.opt)
		if err != nil {
			t.Fatal(err)
		}
		_, err = rd.Next()
		var re *RowError
		if !errors.As(err, &re) || re.Rule != "cell_too_large" || re.Line != 2 {
			t.Fatalf("got %v, want cell_too_large on line 2", err)
		}
		row, err := rd.Next()
		if err != nil || row.Line != 3 || row.Cells[1] != "ok" {
			t.Fatalf("after the huge cell: %+v %v", row, err)
		}
		if _, err := rd.Next(); !errors.Is(err, io.EOF) {
			t.Errorf("end: %v", err)
		}
		after.read()
		grown := after.total - before.total
		t.Logf("%+v: reading a 100 MB cell allocated %d MB in all", c.opt, grown>>20)
		if grown > c.bound {
			t.Errorf("%+v: reading a 100 MB cell allocated %d MB", c.opt, grown>>20)
		}
		rd.Close()
	}
}

// xlsxFile builds a workbook: sheet "客户" (first) and "联系人" with a date,
// a formula, a ragged row and an empty row.
func xlsxFile(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetName("Sheet1", "客户"))
	must(f.SetSheetRow("客户", "A1", &[]any{"名称", "城市"}))
	must(f.SetSheetRow("客户", "A2", &[]any{"中铭科技", "北京"}))
	_, err := f.NewSheet("联系人")
	must(err)
	must(f.SetSheetRow("联系人", "A1", &[]any{"姓名", "生日", "合计", "备注"}))
	must(f.SetSheetRow("联系人", "A2", &[]any{"张三", time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), 3}))
	must(f.SetCellFormula("联系人", "C2", "=1+2"))
	style, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd")})
	must(err)
	must(f.SetCellStyle("联系人", "B2", "B2", style))
	must(f.SetSheetRow("联系人", "A4", &[]any{"李四"}))                            // row 3 empty, row 4 short
	must(f.SetSheetRow("联系人", "A5", &[]any{"王五", "", "", "", "多出来的"}))        // more cells than the header
	must(f.SetSheetRow("联系人", "A6", &[]any{"=不是公式", "", "", "'单引号", "", ""})) // a string, kept as typed
	var buf bytes.Buffer
	must(f.Write(&buf))
	return buf.Bytes()
}

func ptr[T any](v T) *T { return &v }

func TestReadXLSX(t *testing.T) {
	data := xlsxFile(t)
	info, header, rows, _, err := readAll(t, data, "book.xlsx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Format != "xlsx" || info.Sheet != "客户" || !slices.Equal(info.Sheets, []string{"客户", "联系人"}) {
		t.Errorf("info %+v", info)
	}
	if !slices.Equal(header, []string{"名称", "城市"}) || len(rows) != 1 || !slices.Equal(rows[0].Cells, []string{"中铭科技", "北京"}) {
		t.Errorf("first sheet: %q %+v", header, rows)
	}

	// By content, whatever the name says.
	info, header, rows, bad, err := readAll(t, data, "upload.csv", Options{Sheet: "联系人"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Sheet != "联系人" || !slices.Equal(header, []string{"姓名", "生日", "合计", "备注"}) {
		t.Errorf("chosen sheet: %+v %q", info, header)
	}
	want := []Row{
		{Line: 2, Cells: []string{"张三", "1990-05-17", "3", ""}},
		{Line: 4, Cells: []string{"李四", "", "", ""}},
		{Line: 6, Cells: []string{"=不是公式", "", "", "'单引号"}},
	}
	if !slices.EqualFunc(rows, want, func(a, b Row) bool { return a.Line == b.Line && slices.Equal(a.Cells, b.Cells) }) {
		t.Errorf("rows %+v, want %+v", rows, want)
	}
	if len(bad) != 1 || bad[0].Line != 5 || bad[0].Rule != "ragged" || bad[0].Raw[4] != "多出来的" {
		t.Errorf("row errors %+v", bad)
	}

	_, _, _, _, err = readAll(t, data, "book.xlsx", Options{Sheet: "没有"})
	if rule, param := fileRule(err); rule != "sheet" || param != "没有" {
		t.Errorf("missing sheet: %v", err)
	}
}

func TestReadXLSXBroken(t *testing.T) {
	data := xlsxFile(t)
	cases := map[string][]byte{
		"truncated":        data[:len(data)/2],
		"zip without book": zipOf(t, map[string]string{"hello.txt": "hi"}),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, _, _, err := readAll(t, b, "book.xlsx", Options{})
			if rule, _ := fileRule(err); rule != "xlsx" {
				t.Fatalf("error %v, want xlsx", err)
			}
		})
	}
	t.Run("header only", func(t *testing.T) {
		f := excelize.NewFile()
		defer f.Close()
		if err := f.SetSheetRow("Sheet1", "A1", &[]any{"姓名", "手机"}); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := f.Write(&buf); err != nil {
			t.Fatal(err)
		}
		_, _, _, _, err := readAll(t, buf.Bytes(), "book.xlsx", Options{})
		if rule, _ := fileRule(err); rule != "empty_file" {
			t.Fatalf("error %v, want empty_file", err)
		}
	})
	t.Run("zip bomb", func(t *testing.T) {
		// A part that declares it unpacks to 1 TB (what a zip bomb looks like
		// in the directory); nothing is unpacked to find out.
		var buf bytes.Buffer
		z := zip.NewWriter(&buf)
		w, err := z.CreateRaw(&zip.FileHeader{Name: "xl/styles.xml", Method: zip.Deflate, CompressedSize64: 4, UncompressedSize64: 1 << 40})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte{1, 2, 3, 4}); err != nil {
			t.Fatal(err)
		}
		if err := z.Close(); err != nil {
			t.Fatal(err)
		}
		_, _, _, _, err = readAll(t, buf.Bytes(), "book.xlsx", Options{})
		if rule, _ := fileRule(err); rule != "too_large" {
			t.Fatalf("error %v, want too_large", err)
		}
	})
}

// TestRulesSpeakTheCatalog: every rule this package reports has a sentence
// for the file field in both languages.
func TestRulesSpeakTheCatalog(t *testing.T) {
	for _, lang := range []string{i18n.ZH, i18n.EN} {
		for _, r := range rules {
			msg := i18n.FieldMessage(lang, crm.FieldError{Field: "file", Rule: r, Param: "7"})
			if strings.Contains(msg, "rule.") || strings.Contains(msg, "field.") || strings.Contains(msg, "%!") {
				t.Errorf("%s %s: %q", lang, r, msg)
			}
			if m := i18n.Message(lang, fileError(r, "7", "x")); strings.Contains(m, "error.") || strings.Contains(m, "%!") {
				t.Errorf("%s %s: %q", lang, r, m)
			}
		}
	}
}

// runtimeMem is the bytes allocated so far.
type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
