package transfer

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// Writer writes rows of strings; Close flushes. Every cell passes through
// Neutralize first.
type Writer interface {
	WriteRow(cells []string) error
	Close() error
}

// Neutralize defuses CSV/formula injection (OWASP): a value starting with
// =, +, -, @, a tab or a carriage return gets a leading ' so a spreadsheet
// shows it as text instead of running it as a formula. Custos stores
// values as typed; only what leaves in a file is neutralised.
func Neutralize(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + cell
	}
	return cell
}

type csvWriter struct {
	w   *csv.Writer
	row []string
}

// NewCSVWriter writes UTF-8 CSV; bom=true starts it with a byte-order mark
// so Excel opens Chinese text correctly.
func NewCSVWriter(w io.Writer, bom bool) Writer {
	cw := &csvWriter{w: csv.NewWriter(w)}
	if bom {
		// An error here resurfaces at the first flush (the same writer).
		_, _ = w.Write(utf8BOM)
	}
	return cw
}

func (c *csvWriter) WriteRow(cells []string) error {
	c.row = c.row[:0]
	for _, cell := range cells {
		c.row = append(c.row, Neutralize(cell))
	}
	return c.w.Write(c.row)
}

func (c *csvWriter) Close() error {
	c.w.Flush()
	return c.w.Error()
}

type xlsxWriter struct {
	out    io.Writer
	file   *excelize.File
	stream *excelize.StreamWriter
	line   int
	row    []any
}

// NewXLSXWriter writes a workbook with one sheet, streamed: rows go to a
// temporary file as they come and the workbook is written to w on Close.
func NewXLSXWriter(w io.Writer, sheet string) (Writer, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("transfer: sheet name %q: %w", sheet, err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("transfer: xlsx stream: %w", err)
	}
	return &xlsxWriter{out: w, file: f, stream: sw}, nil
}

func (x *xlsxWriter) WriteRow(cells []string) error {
	x.line++
	x.row = x.row[:0]
	for _, cell := range cells {
		x.row = append(x.row, Neutralize(cell))
	}
	cell, err := excelize.CoordinatesToCellName(1, x.line)
	if err != nil {
		return fmt.Errorf("transfer: xlsx row %d: %w", x.line, err)
	}
	if err := x.stream.SetRow(cell, x.row); err != nil {
		return fmt.Errorf("transfer: xlsx row %d: %w", x.line, err)
	}
	return nil
}

func (x *xlsxWriter) Close() error {
	err := x.stream.Flush()
	if err == nil {
		err = x.file.Write(x.out)
	}
	if cerr := x.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("transfer: write xlsx: %w", err)
	}
	return nil
}

// DocProps are a workbook's document properties (File → Info in Excel).
type DocProps struct {
	Title, Subject, Creator, Description, Keywords string
	Created                                        string // RFC 3339
}

// SetDocProps sets the document properties of a writer that writes XLSX;
// CSV has none, and is left alone.
func SetDocProps(w Writer, p DocProps) error {
	x, ok := w.(*xlsxWriter)
	if !ok {
		return nil
	}
	err := x.file.SetDocProps(&excelize.DocProperties{Title: p.Title, Subject: p.Subject, Creator: p.Creator,
		LastModifiedBy: p.Creator, Description: p.Description, Keywords: p.Keywords, Created: p.Created, Modified: p.Created})
	if err != nil {
		return fmt.Errorf("transfer: document properties: %w", err)
	}
	return nil
}
