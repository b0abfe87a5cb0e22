package transfer

import (
	"archive/zip"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Limits on what an XLSX may unpack to. Worksheets and the shared strings
// larger than xlsxMemoryPart go to temporary files (excelize streams rows
// from them); every other part is held in memory, so it may not exceed
// xlsxOtherPart. A zip bomb stops at the total.
const (
	xlsxUnpacked   = 2 << 30  // all parts together, unpacked
	xlsxMemoryPart = 16 << 20 // a worksheet or shared-strings part above this is unpacked to disk
	xlsxOtherPart  = 64 << 20 // any other part (styles, workbook, drawings…) unpacked in memory
)

type xlsxSource struct {
	file *excelize.File
	rows *excelize.Rows
	line int
}

func openXLSX(r io.ReaderAt, size int64, opt Options) (source, Info, error) {
	info := Info{Format: "xlsx"}
	if err := checkZip(r, size); err != nil {
		return nil, info, err
	}
	f, err := excelize.OpenReader(io.NewSectionReader(r, 0, size), excelize.Options{
		UnzipSizeLimit:    xlsxUnpacked,
		UnzipXMLSizeLimit: xlsxMemoryPart,
	})
	if err != nil {
		if f != nil {
			_ = f.Close()
		}
		if strings.Contains(err.Error(), "unzip size") {
			return nil, info, tooLarge()
		}
		return nil, info, fileError("xlsx", "", "not a readable XLSX workbook: %v", err)
	}
	info.Sheets = f.GetSheetList()
	if len(info.Sheets) == 0 {
		_ = f.Close()
		return nil, info, fileError("xlsx", "", "the workbook has no sheets")
	}
	info.Sheet = info.Sheets[0]
	if opt.Sheet != "" {
		info.Sheet = opt.Sheet
	}
	rows, err := f.Rows(info.Sheet)
	if err != nil {
		_ = f.Close()
		var missing excelize.ErrSheetNotExist
		if errors.As(err, &missing) || !slices.Contains(info.Sheets, info.Sheet) {
			return nil, info, fileError("sheet", info.Sheet, "the workbook has no sheet %q", info.Sheet)
		}
		return nil, info, fileError("xlsx", "", "sheet %q cannot be read: %v", info.Sheet, err)
	}
	return &xlsxSource{file: f, rows: rows}, info, nil
}

// checkZip refuses what is not a zip archive, and one whose parts would
// unpack beyond the limits, before excelize unpacks anything.
func checkZip(r io.ReaderAt, size int64) error {
	z, err := zip.NewReader(r, size)
	if err != nil {
		return fileError("xlsx", "", "not a readable XLSX workbook: %v", err)
	}
	var total uint64
	for _, f := range z.File {
		total += f.UncompressedSize64
		name := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))
		streamed := strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml"
		if total > xlsxUnpacked || (!streamed && f.UncompressedSize64 > xlsxOtherPart) {
			return tooLarge()
		}
	}
	return nil
}

func tooLarge() error {
	return fileError("too_large", strconv.Itoa(xlsxUnpacked>>20)+" MB", "the workbook unpacks to more than %d MB", xlsxUnpacked>>20)
}

func (x *xlsxSource) next() (int, []string, error) {
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return 0, nil, fileError("xlsx", strconv.Itoa(x.line+1), "row %d cannot be read: %v", x.line+1, err)
		}
		return 0, nil, io.EOF
	}
	x.line++
	cells, err := x.rows.Columns()
	if err != nil {
		return 0, nil, fileError("xlsx", strconv.Itoa(x.line), "row %d cannot be read: %v", x.line, err)
	}
	return x.line, cells, nil
}

func (x *xlsxSource) close() error {
	err := x.rows.Close()
	if cerr := x.file.Close(); err == nil {
		err = cerr
	}
	return err
}
