// Package transfer reads and writes tables of strings: CSV (UTF-8, UTF-8
// with a BOM, GBK/GB18030) and XLSX, for import and export. It knows
// nothing about objects; the importer maps columns to fields.
//
// Reading is streamed and bounded: a cell longer than MaxCellBytes is a row
// error, a line longer than MaxColumns×MaxCellBytes is skipped (never held
// in memory), and a file that cannot be read at all is one *crm.Error naming
// the rule and the line.
package transfer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"custos/internal/crm"
)

// Info is what Open (or Sniff) found; the user may override Encoding and
// Sheet and open the file again.
type Info struct {
	Format   string   `json:"format"`             // "csv" or "xlsx"
	Encoding string   `json:"encoding,omitempty"` // "utf-8", "utf-8-bom", "gb18030" (csv only; GBK is read as GB18030, its superset)
	Sheets   []string `json:"sheets,omitempty"`   // xlsx sheet names in order
	Sheet    string   `json:"sheet,omitempty"`    // the sheet read
}

// Options steer Open. The zero value detects everything.
type Options struct {
	Encoding     string // "" = detect; "utf-8", "utf-8-bom", "gb18030" or "gbk"
	Sheet        string // "" = first sheet
	MaxCellBytes int    // 0 = 64 KiB; a longer cell is a row error
	MaxColumns   int    // 0 = 200
}

const (
	defaultMaxCellBytes = 64 << 10
	defaultMaxColumns   = 200
)

// Row is one data row. Cells has exactly as many entries as the header.
type Row struct {
	Line  int // 1-based row number as the user sees it in Excel; the header is 1
	Cells []string
}

// RowError is a bad row: the caller records it and calls Next again.
type RowError struct {
	Line  int
	Rule  string // an i18n rule key (rule.<Rule>)
	Param string
	Raw   []string // the row's cells as read (each cut to MaxCellBytes)
}

func (e *RowError) Error() string {
	return fmt.Sprintf("transfer: line %d: %s", e.Line, e.Rule)
}

// The rules this package reports (each has a rule.X and error.X sentence
// in the catalog, in both languages).
var rules = []string{"file_encoding", "binary", "quote", "ragged", "cell_too_large", "empty_file", "header", "columns", "xlsx", "too_large", "sheet"}

// fileError is a file-level problem: the reader is done.
func fileError(rule, param, format string, args ...any) *crm.Error {
	return &crm.Error{
		Code:    crm.Invalid,
		Key:     rule,
		Message: fmt.Sprintf(format, args...),
		Fields:  []crm.FieldError{{Field: "file", Rule: rule, Param: param}},
	}
}

// source is one format's row stream: raw cells with their line, io.EOF at
// the end, a *RowError for a bad row, another error for a broken file.
type source interface {
	next() (line int, cells []string, err error)
	close() error
}

// Reader reads the data rows of a file; see Open.
type Reader struct {
	src     source
	opt     Options
	header  []string
	pending *result // the first data row, read by Open to refuse a file without one
	done    error
}

type result struct {
	row Row
	err error
}

// zipMagic opens every XLSX (a zip archive); oleMagic an encrypted
// workbook or an old .xls.
var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// Open detects the format by content (a zip archive is XLSX, else CSV),
// reads the header row and returns a Reader positioned at the first data
// row. name is used only to refuse an .xlsx/.xls name whose content is not
// a workbook.
func Open(r io.ReaderAt, size int64, name string, opt Options) (*Reader, Info, error) {
	if opt.MaxCellBytes <= 0 {
		opt.MaxCellBytes = defaultMaxCellBytes
	}
	if opt.MaxColumns <= 0 {
		opt.MaxColumns = defaultMaxColumns
	}
	head := make([]byte, 8)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, Info{}, fmt.Errorf("transfer: read %s: %w", name, err)
	}
	head = head[:n]
	lower := strings.ToLower(name)
	var (
		src  source
		info Info
	)
	switch {
	case bytes.HasPrefix(head, zipMagic):
		src, info, err = openXLSX(r, size, opt)
	case bytes.HasPrefix(head, oleMagic) || strings.HasSuffix(lower, ".xlsx") || strings.HasSuffix(lower, ".xls"):
		return nil, Info{}, fileError("xlsx", "", "%s is not an XLSX workbook (damaged, encrypted or an old .xls)", name)
	default:
		src, info, err = openCSV(r, size, opt)
	}
	if err != nil {
		return nil, info, err
	}
	rd := &Reader{src: src, opt: opt}
	if err := rd.readHeader(); err != nil {
		_ = src.close()
		return nil, info, err
	}
	row, err := rd.Next()
	if errors.Is(err, io.EOF) {
		_ = src.close()
		return nil, info, fileError("empty_file", "", "the file has a header row but no data rows")
	}
	var re *RowError
	if err != nil && !errors.As(err, &re) {
		_ = src.close()
		return nil, info, err
	}
	rd.pending = &result{row, err}
	return rd, info, nil
}

// Sniff opens the file only to report what Open finds (format, encoding,
// sheets), for the user to confirm or override.
func Sniff(r io.ReaderAt, size int64, name string, opt Options) (Info, error) {
	rd, info, err := Open(r, size, name, opt)
	if err != nil {
		return info, err
	}
	return info, rd.Close()
}

// Header returns the column names (trimmed, unique, none empty).
func (r *Reader) Header() []string { return r.header }

// Next returns the next data row, io.EOF at the end. A *RowError is a bad
// row (call Next again); any other error ends the reading.
func (r *Reader) Next() (Row, error) {
	if p := r.pending; p != nil {
		r.pending = nil
		return p.row, p.err
	}
	if r.done != nil {
		return Row{}, r.done
	}
	for {
		line, cells, err := r.src.next()
		if err != nil {
			var re *RowError
			if errors.As(err, &re) {
				re.Raw = r.cut(re.Raw)
				return Row{}, re
			}
			r.done = err
			return Row{}, err
		}
		if row, err, skip := r.shape(line, cells); !skip {
			return row, err
		}
	}
}

// Close releases the file (and any temporary files of an XLSX).
func (r *Reader) Close() error {
	if r.done == nil {
		r.done = io.EOF
	}
	return r.src.close()
}

// readHeader takes the first non-empty row as the header: trailing empty
// names are dropped; an empty or repeated name, or too many columns, is a
// file error.
func (r *Reader) readHeader() error {
	for {
		line, cells, err := r.src.next()
		if errors.Is(err, io.EOF) {
			return fileError("empty_file", "", "the file is empty")
		}
		var re *RowError
		if errors.As(err, &re) {
			return fileError(re.Rule, re.Param, "the header row (line %d) cannot be read: %s", re.Line, re.Rule)
		}
		if err != nil {
			return err
		}
		cells = trimCR(cells)
		for len(cells) > 0 && strings.TrimSpace(cells[len(cells)-1]) == "" {
			cells = cells[:len(cells)-1]
		}
		if len(cells) == 0 {
			continue
		}
		if len(cells) > r.opt.MaxColumns {
			return fileError("columns", strconv.Itoa(r.opt.MaxColumns), "the header row has %d columns, more than %d", len(cells), r.opt.MaxColumns)
		}
		seen := make(map[string]bool, len(cells))
		header := make([]string, len(cells))
		for i, c := range cells {
			if len(c) > r.opt.MaxCellBytes {
				return fileError("cell_too_large", strconv.Itoa(line), "the header row (line %d) has a cell longer than %d bytes", line, r.opt.MaxCellBytes)
			}
			name := strings.TrimSpace(c)
			if name == "" || seen[name] {
				return fileError("header", ColumnName(i+1), "the header row (line %d) has an empty or repeated name in column %s", line, ColumnName(i+1))
			}
			seen[name] = true
			header[i] = name
		}
		r.header = header
		return nil
	}
}

// shape turns raw cells into a Row: a fully empty row is skipped, a cell
// over the limit or more non-empty cells than the header is a RowError,
// fewer cells are padded with "".
func (r *Reader) shape(line int, cells []string) (Row, error, bool) {
	cells = trimCR(cells)
	empty := true
	for _, c := range cells {
		if c != "" {
			empty = false
			break
		}
	}
	if empty {
		return Row{}, nil, true
	}
	for _, c := range cells {
		if len(c) > r.opt.MaxCellBytes {
			return Row{}, &RowError{Line: line, Rule: "cell_too_large", Param: strconv.Itoa(line), Raw: r.cut(cells)}, false
		}
	}
	for _, c := range cells[min(len(cells), len(r.header)):] {
		if c != "" {
			return Row{}, &RowError{Line: line, Rule: "ragged", Param: strconv.Itoa(line), Raw: r.cut(cells)}, false
		}
	}
	out := make([]string, len(r.header))
	copy(out, cells)
	return Row{Line: line, Cells: out}, nil, false
}

// cut copies cells for an error report, each cut to MaxCellBytes (at a
// character boundary) and at most MaxColumns of them.
func (r *Reader) cut(cells []string) []string {
	out := make([]string, 0, min(len(cells), r.opt.MaxColumns))
	for _, c := range cells[:min(len(cells), r.opt.MaxColumns)] {
		if len(c) > r.opt.MaxCellBytes {
			c = strings.ToValidUTF8(c[:r.opt.MaxCellBytes], "")
		}
		out = append(out, c)
	}
	return out
}

// trimCR drops a stray carriage return ending the last cell.
func trimCR(cells []string) []string {
	if n := len(cells); n > 0 && strings.HasSuffix(cells[n-1], "\r") {
		cells[n-1] = strings.TrimSuffix(cells[n-1], "\r")
	}
	return cells
}

// ColumnName is the spreadsheet name of the 1-based column n: A, B, …, Z,
// AA, … (how the user finds it in Excel).
func ColumnName(n int) string {
	var b []byte
	for n > 0 {
		n--
		b = append([]byte{byte('A' + n%26)}, b...)
		n /= 26
	}
	return string(b)
}

// EachRow reads every row of a CSV or XLSX file (the first sheet) as it
// stands — no header, no shape — for a caller that looks at cells, not
// records (tracing a file back to its export). Rows that cannot be read
// are skipped; a file that cannot be read at all is an error.
func EachRow(r io.ReaderAt, size int64, name string, fn func(cells []string)) error {
	opt := Options{MaxCellBytes: defaultMaxCellBytes, MaxColumns: defaultMaxColumns}
	head := make([]byte, 8)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("transfer: read %s: %w", name, err)
	}
	var src source
	if bytes.HasPrefix(head[:n], zipMagic) {
		src, _, err = openXLSX(r, size, opt)
	} else {
		src, _, err = openCSV(r, size, opt)
	}
	if err != nil {
		return err
	}
	defer src.close()
	for {
		_, cells, err := src.next()
		var re *RowError
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.As(err, &re):
			continue
		case err != nil:
			return err
		}
		fn(trimCR(cells))
	}
}
