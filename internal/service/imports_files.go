package service

import (
	"context"
	"io"
	"strconv"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/store"
	"custos/internal/transfer"
)

// The files the import surfaces hand out: an object's template and an
// import's error report, as CSV or XLSX, written through the transfer
// writers so a formula-leading cell is neutralised. Web and API share
// them.

// Import file formats.
const (
	FileCSV  = "csv"
	FileXLSX = "xlsx"
)

// ImportFile is a file to download: its name and content type; the bytes
// went to the writer.
type ImportFile struct {
	Name        string
	ContentType string
}

// newFileWriter opens a writer of the format ("" is CSV; CSV carries a BOM
// so Excel opens Chinese text as UTF-8).
func newFileWriter(w io.Writer, format, sheet string) (transfer.Writer, ImportFile, error) {
	switch format {
	case "", FileCSV:
		return transfer.NewCSVWriter(w, true), ImportFile{ContentType: "text/csv; charset=utf-8", Name: "." + FileCSV}, nil
	case FileXLSX:
		wr, err := transfer.NewXLSXWriter(w, sheet)
		return wr, ImportFile{ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Name: "." + FileXLSX}, err
	}
	return nil, ImportFile{}, &crm.Error{Code: crm.Invalid, Message: "unknown file format",
		Fields: []crm.FieldError{{Field: "format", Rule: "enum", Param: FileCSV + ", " + FileXLSX}}}
}

// WriteImportTemplate writes an object's empty template (its header row in
// the language) as CSV or XLSX.
func (s *Service) WriteImportTemplate(ctx context.Context, a *access.Actor, o crm.Object, lang, format string, w io.Writer) (ImportFile, error) {
	header, err := s.ImportTemplate(ctx, a, o, lang)
	if err != nil {
		return ImportFile{}, err
	}
	wr, f, err := newFileWriter(w, format, "import")
	if err != nil {
		return f, err
	}
	f.Name = "import-" + string(o) + "-" + i18n.Pick(lang, "") + f.Name
	if err := wr.WriteRow(header); err != nil {
		return f, err
	}
	return f, wr.Close()
}

// WriteImportErrors writes an import's problem rows — the row's line, its
// original cells, the reason — as CSV or XLSX, for the importer to fix and
// import again. The download is audited before any row is written: the
// cells are the file's data.
func (s *Service) WriteImportErrors(ctx context.Context, a *access.Actor, id int64, lang, format string, w io.Writer) (ImportFile, error) {
	im, err := s.GetImport(ctx, a, id)
	if err != nil {
		return ImportFile{}, err
	}
	wr, f, err := newFileWriter(w, format, "errors")
	if err != nil {
		return f, err
	}
	f.Name = "import-" + strconv.FormatInt(id, 10) + "-errors" + f.Name
	var rows []crm.ImportRow
	for after := 0; ; {
		page, err := s.ImportRows(ctx, a, id, after, 1000, true)
		if err != nil {
			return f, err
		}
		if len(page) == 0 {
			break
		}
		rows = append(rows, page...)
		after = page[len(page)-1].Line
	}
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		return s.audit(ctx, tx, importActor(a, id), "import.errors_download", im.Object, 0,
			map[string]any{"import_id": id, "rows": len(rows), "format": format})
	})
	if err != nil {
		return f, err
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r.Raw))
	}
	lang = i18n.Pick(lang, "")
	header := []string{i18n.T(lang, "import.line")}
	for i := range width {
		header = append(header, transfer.ColumnName(i+1))
	}
	if err := wr.WriteRow(append(header, i18n.T(lang, "import.reason"))); err != nil {
		return f, err
	}
	for _, r := range rows {
		cells := append([]string{strconv.Itoa(r.Line)}, r.Raw...)
		for len(cells) < width+1 {
			cells = append(cells, "")
		}
		if err := wr.WriteRow(append(cells, r.Reason)); err != nil {
			return f, err
		}
	}
	return f, wr.Close()
}
