package transfer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"custos/internal/crm"
)

// sampleBytes is how much of a CSV is read to guess its encoding and
// separator.
const sampleBytes = 64 << 10

var utf8BOM = []byte("\xEF\xBB\xBF")

// csvSource reads records through a guard that bounds line and record
// length and checks the text, so encoding/csv never buffers more than
// MaxColumns×MaxCellBytes and never sees a NUL or an invalid character.
type csvSource struct {
	csv   *csv.Reader
	guard *guard
	// extra is how many physical lines so far were continuation lines of a
	// quoted cell: a record's row number as Excel counts is its first
	// physical line minus extra.
	extra int
	last  int // the last row returned
}

func openCSV(r io.ReaderAt, size int64, opt Options) (source, Info, error) {
	info := Info{Format: "csv"}
	sample := make([]byte, min(size, sampleBytes))
	n, err := r.ReadAt(sample, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, info, err
	}
	sample = sample[:n]
	whole := int64(n) >= size
	if !whole {
		// Cut at the last newline: neither UTF-8 nor GB18030 uses 0x0A
		// inside a character, so the sample ends on a whole character.
		if i := bytes.LastIndexByte(sample, '\n'); i >= 0 {
			sample = sample[:i+1]
		}
	}
	bom := bytes.HasPrefix(sample, utf8BOM)
	if bom {
		sample = sample[len(utf8BOM):]
	}
	if bytes.HasPrefix(sample, []byte{0xFF, 0xFE}) || bytes.HasPrefix(sample, []byte{0xFE, 0xFF}) {
		return nil, info, fileError("file_encoding", "1", "the file is UTF-16 text: save it as UTF-8 (or CSV from Excel)")
	}
	if i := bytes.IndexByte(sample, 0); i >= 0 {
		line := bytes.Count(sample[:i], []byte("\n")) + 1
		return nil, info, fileError("binary", strconv.Itoa(line), "line %d holds binary data (a NUL byte): not a text CSV file", line)
	}
	switch enc := strings.ToLower(opt.Encoding); enc {
	case "":
		switch {
		case bom:
			info.Encoding = "utf-8-bom"
		case validUTF8(sample, whole):
			info.Encoding = "utf-8"
		case cleanGB18030(sample):
			info.Encoding = "gb18030"
		default:
			line := firstInvalidLine(sample)
			return nil, info, fileError("file_encoding", strconv.Itoa(line), "line %d is neither UTF-8 nor GB18030 text", line)
		}
	case "utf-8", "utf8", "utf-8-bom":
		info.Encoding = "utf-8"
		if bom {
			info.Encoding = "utf-8-bom"
		}
	case "gb18030", "gbk", "gb2312":
		info.Encoding = "gb18030"
	default:
		return nil, info, &crm.Error{Code: crm.Invalid, Key: "invalid", Message: "unknown encoding " + opt.Encoding,
			Fields: []crm.FieldError{{Field: "encoding", Rule: "enum", Param: "utf-8, utf-8-bom, gb18030"}}}
	}

	start := int64(0)
	if bom && info.Encoding != "gb18030" {
		start = int64(len(utf8BOM))
	}
	var text io.Reader = io.NewSectionReader(r, start, size-start)
	decoded := sample
	if info.Encoding == "gb18030" {
		text = transform.NewReader(text, simplifiedchinese.GB18030.NewDecoder())
		decoded, _, _ = transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), sample)
	}
	g := &guard{src: text, gb: info.Encoding == "gb18030", limit: opt.MaxColumns * opt.MaxCellBytes}
	c := csv.NewReader(g)
	c.Comma = separator(decoded)
	c.FieldsPerRecord = -1
	c.ReuseRecord = true
	s := &csvSource{csv: c, guard: g}
	g.row = func(physical int) int { return physical - s.extra }
	return s, info, nil
}

func (s *csvSource) next() (int, []string, error) {
	s.guard.mark()
	rec, err := s.csv.Read()
	if err == nil {
		first, _ := s.csv.FieldPos(0)
		lastLine, _ := s.csv.FieldPos(len(rec) - 1)
		line := first - s.extra
		s.extra += lastLine + strings.Count(rec[len(rec)-1], "\n") - first
		s.last = line
		return line, rec, nil
	}
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return 0, nil, io.EOF
	case errors.As(err, &pe):
		line := pe.StartLine - s.extra
		s.extra += pe.Line - pe.StartLine
		s.last = line
		return 0, nil, &RowError{Line: line, Rule: "quote", Param: strconv.Itoa(line), Raw: rec}
	case errors.Is(err, errLongLine):
		line := s.guard.longAt - s.extra
		s.last = line
		return 0, nil, &RowError{Line: line, Rule: "cell_too_large", Param: strconv.Itoa(line), Raw: rec}
	case errors.Is(err, errLongRecord):
		// A record over the limit spanning many lines is a quote opened
		// and never closed (or a cell far too large to be one).
		line := s.last + 1
		return 0, nil, fileError("quote", strconv.Itoa(line), "the record starting at line %d never ends: a quotation mark is not closed", line)
	}
	return 0, nil, err
}

func (s *csvSource) close() error { return nil }

// separator picks comma, semicolon or tab, whichever the header line
// (outside quotes) holds most of; comma when none.
func separator(sample []byte) rune {
	if i := bytes.IndexByte(sample, '\n'); i >= 0 {
		sample = sample[:i]
	}
	counts := map[byte]int{}
	quoted := false
	for _, b := range sample {
		switch {
		case b == '"':
			quoted = !quoted
		case !quoted && (b == ',' || b == ';' || b == '\t'):
			counts[b]++
		}
	}
	best := byte(',')
	for _, b := range []byte{';', '\t'} {
		if counts[b] > counts[best] {
			best = b
		}
	}
	return rune(best)
}

// validUTF8 reports whether b is UTF-8; when b is not the whole file, a
// character cut by the end of the sample is allowed.
func validUTF8(b []byte, whole bool) bool {
	if !whole {
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	return utf8.Valid(b)
}

// cleanGB18030 reports whether b decodes as GB18030 without a replacement
// character (the decoder substitutes U+FFFD for invalid bytes).
func cleanGB18030(b []byte) bool {
	out, _, err := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), b)
	return err == nil && !bytes.Contains(out, replacement)
}

var replacement = []byte(string(utf8.RuneError))

// firstInvalidLine is the line of the first byte that is not UTF-8.
func firstInvalidLine(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return bytes.Count(b[:i], []byte("\n")) + 1
		}
		i += size
	}
	return bytes.Count(b, []byte("\n")) + 1
}

var (
	errLongLine   = errors.New("transfer: line too long")
	errLongRecord = errors.New("transfer: record too long")
)

// guard sits between the decoded text and encoding/csv. It counts lines,
// refuses NUL bytes and invalid characters (a file error naming the line),
// cuts a line longer than limit (one errLongLine, then the rest of that line
// is skipped unread into memory) and fails a record that grows past limit
// over many lines (errLongRecord).
type guard struct {
	src   io.Reader
	gb    bool // the text was decoded from GB18030: U+FFFD marks an invalid byte
	limit int
	row   func(physical int) int // physical line → row number

	line    int // newlines passed so far
	lineLen int // bytes since the last newline
	recLen  int // bytes since mark
	longAt  int // the physical line cut by the last errLongLine
	skip    bool
	carry   []byte // an incomplete UTF-8 character (utf-8) or the last two bytes (gb18030) of the previous chunk
	scratch []byte
	err     error
}

// mark tells the guard a record ended: the record limit counts from here
// (plus what encoding/csv has buffered ahead, at most a few KiB).
func (g *guard) mark() { g.recLen = 0 }

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.skip {
		if err := g.skipLine(); err != nil {
			g.err = err
			return 0, err
		}
	}
	if g.lineLen > g.limit {
		g.skip = true
		g.longAt = g.line + 1
		return 0, errLongLine
	}
	if g.recLen > g.limit+8<<10 { // encoding/csv reads ahead at most 4 KiB
		g.err = errLongRecord
		return 0, g.err
	}
	n, err := g.src.Read(p)
	if n > 0 {
		if cerr := g.check(p[:n]); cerr != nil {
			g.err = cerr
			return 0, cerr
		}
		g.count(p[:n])
	}
	if errors.Is(err, io.EOF) && len(g.carry) > 0 && !g.gb {
		g.err = g.invalid(0, nil)
		return n, g.err
	}
	return n, err
}

// count advances the line and length counters over p.
func (g *guard) count(p []byte) {
	g.recLen += len(p)
	if i := bytes.LastIndexByte(p, '\n'); i >= 0 {
		g.line += bytes.Count(p, []byte("\n"))
		g.lineLen = len(p) - i - 1
	} else {
		g.lineLen += len(p)
	}
}

// skipLine reads and drops the rest of an over-long line, keeping what
// follows its newline for the next Read.
func (g *guard) skipLine() error {
	if g.scratch == nil {
		g.scratch = make([]byte, 32<<10)
	}
	for {
		n, err := g.src.Read(g.scratch)
		chunk := g.scratch[:n]
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			if cerr := g.check(chunk[:i+1]); cerr != nil {
				return cerr
			}
			g.line++
			g.lineLen, g.recLen = 0, 0
			g.skip = false
			rest := chunk[i+1:]
			if len(rest) > 0 {
				g.src = io.MultiReader(bytes.NewReader(bytes.Clone(rest)), g.src)
			}
			return nil
		}
		if cerr := g.check(chunk); cerr != nil {
			return cerr
		}
		if err != nil {
			g.skip = false
			return err
		}
	}
}

// check refuses NUL bytes and text invalid in the file's encoding.
func (g *guard) check(p []byte) error {
	if i := bytes.IndexByte(p, 0); i >= 0 {
		line := g.row(g.line + bytes.Count(p[:i], []byte("\n")) + 1)
		return fileError("binary", strconv.Itoa(line), "line %d holds binary data (a NUL byte): not a text CSV file", line)
	}
	if g.gb {
		// The decoder turned each invalid byte into U+FFFD; look for one,
		// also across the boundary with the previous chunk.
		joined := append(g.carry, p[:min(len(p), 2)]...)
		if i := bytes.Index(joined, replacement); i >= 0 {
			return g.invalid(0, p)
		}
		if i := bytes.Index(p, replacement); i >= 0 {
			return g.invalid(i, p)
		}
		g.carry = append(g.carry[:0], p[max(0, len(p)-2):]...)
		return nil
	}
	if len(g.carry) > 0 {
		// Finish the character the previous chunk cut.
		var buf [2 * utf8.UTFMax]byte
		k := copy(buf[:], g.carry)
		take := copy(buf[k:], p[:min(len(p), utf8.UTFMax)])
		full := buf[:k+take]
		if !utf8.FullRune(full) { // p is shorter than a character: still a prefix
			g.carry = append(g.carry, p...)
			return nil
		}
		r, size := utf8.DecodeRune(full)
		if r == utf8.RuneError && size <= 1 {
			return g.invalid(0, p)
		}
		p = p[size-k:]
		g.carry = g.carry[:0]
	}
	tail := 0
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				tail = len(p) - i
			}
			break
		}
	}
	if !utf8.Valid(p[:len(p)-tail]) {
		return g.invalid(invalidAt(p[:len(p)-tail]), p)
	}
	g.carry = append(g.carry[:0], p[len(p)-tail:]...)
	return nil
}

// invalid is the encoding error for the byte at i of p.
func (g *guard) invalid(i int, p []byte) error {
	line := g.row(g.line + bytes.Count(p[:i], []byte("\n")) + 1)
	return fileError("file_encoding", strconv.Itoa(line), "line %d is not valid text in the file's encoding", line)
}

// invalidAt is the offset of the first invalid UTF-8 byte in p.
func invalidAt(p []byte) int {
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(p)
}
