package transfer

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The invisible fingerprint of an export (docs/security.md, "Export
// watermarks"). A cell's text offers positions that can be written two
// ways with the same meaning — forms that Unicode compatibility
// normalisation (NFKC) folds into one — and which form each position takes
// is a bit of HMAC-SHA256 under the export's own key, of the cell's
// normalised text and the position's number. So the mark is in every
// cell, depends on no row order, column or header, and survives what
// spreadsheets do to a file they open and save again (line ends,
// byte-order marks, quoting, trailing spaces, number formats, dropped rows
// and columns). A file is traced by comparing the forms it holds with what
// each export's key expects: the export that wrote it agrees everywhere,
// any other on about half.
//
// The positions, and why these: every form is a character of GBK as
// Windows (code page 936) has it, so a copy Excel or WPS saves as "CSV"
// on a Chinese Windows keeps every mark and corrupts no value.
//   - Beside a Chinese character: a run of up to four digits, written
//     half-width (88号) or full-width (８８号); one of the punctuation marks
//     ( ) , : ; ! written half- or full-width (a parenthesis pair takes one
//     form together); an inner space written as U+0020 or the ideographic
//     space U+3000.
//   - In a cell without Chinese text: an inner space between two
//     non-spaces, next to a letter, written as U+0020 or the no-break
//     space U+00A0 (invisible; kept by
//     UTF-8, XLSX and the Western code pages; a GBK copy has a plain space,
//     which loses the bit, not the text).
//
// What the forms are not: trailing or doubled spaces (spreadsheets trim
// them), zero-width characters (some tools strip them), letter case (an
// e-mail's local part is case-sensitive), row order (a sort undoes it),
// digits outside Chinese text (a number, a date or a phone a spreadsheet
// may rewrite), and the Kangxi-radical and compatibility-ideograph twins
// of Chinese characters an earlier version used: they are not in GBK, so a
// GBK copy turned them into '?'.

const (
	latinSpace = '\u00a0' // the twin of an inner space in Latin text
	hanSpace   = '\u3000' // the twin of an inner space beside a Chinese character
	maxDigits  = 4        // longer digit runs are numbers (an order, a phone), left alone
)

// hanPunct are the marks that are written either width beside Chinese text.
const hanPunct = "(),:;!"

// wideOf maps a digit or punctuation mark to its full-width form; baseOf
// maps every form the fingerprint writes back to its plain character, and
// legacyTwins (Kangxi radicals, compatibility ideographs) to theirs.
var (
	wideOf      = map[rune]rune{}
	baseOf      = map[rune]rune{latinSpace: ' ', hanSpace: ' '}
	legacyTwins = map[rune]rune{}
)

func init() {
	for _, r := range "0123456789" + hanPunct {
		wide := r - 0x21 + 0xFF01 // the full-width block mirrors ASCII 0x21–0x7E
		wideOf[r], baseOf[wide] = wide, r
	}
	for _, block := range [][2]rune{{0x2F00, 0x2FD5}, {0xF900, 0xFAFF}} {
		for r := block[0]; r <= block[1]; r++ {
			folded := []rune(norm.NFKC.String(string(r)))
			if len(folded) == 1 && folded[0] != r && unicode.Is(unicode.Han, folded[0]) {
				legacyTwins[r] = folded[0]
			}
		}
	}
}

// Fingerprint is one export's fingerprint key. It keeps one HMAC state,
// reset for each cell (a new one per cell costs more than the cell): not
// for use by several goroutines at once.
type Fingerprint struct {
	mac hash.Hash
	sum []byte
}

// NewFingerprint returns the fingerprint of a key (32 random bytes per
// export, kept sealed by the service).
func NewFingerprint(key []byte) *Fingerprint { return &Fingerprint{mac: hmac.New(sha256.New, key)} }

// bits returns the export's bits for a cell's normalised text.
func (f *Fingerprint) bits(canon string, n int) []bool {
	out := make([]bool, 0, n)
	for block := 0; len(out) < n; block++ {
		f.mac.Reset()
		io.WriteString(f.mac, canon)
		f.mac.Write([]byte{0, byte(block >> 8), byte(block)})
		f.sum = f.mac.Sum(f.sum[:0])
		for _, b := range f.sum {
			for i := 0; i < 8 && len(out) < n; i++ {
				out = append(out, b>>i&1 == 1)
			}
		}
	}
	return out
}

// canonical returns a cell as a mark-free text, trimmed as spreadsheets
// trim it and with a formula-neutralising apostrophe removed; twins says,
// for each character of it, whether the cell wrote its other form.
func canonical(cell string) ([]rune, []bool) {
	if len(cell) > 1 && cell[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(cell[1])) {
		cell = cell[1:]
	}
	cell = strings.TrimFunc(strings.ReplaceAll(cell, "\r\n", "\n"), unicode.IsSpace)
	runes := make([]rune, 0, utf8.RuneCountInString(cell))
	twins := make([]bool, 0, cap(runes))
	for _, r := range cell {
		if b, ok := baseOf[r]; ok {
			runes, twins = append(runes, b), append(twins, true)
			continue
		}
		runes, twins = append(runes, r), append(twins, false)
	}
	return runes, twins
}

// slotKind tells the carriers apart: a file may have lost one kind as a
// whole (a GBK copy turns every no-break space into a space), and trace
// then reads the others only.
type slotKind uint8

const (
	latinSpaceSlot slotKind = iota
	hanSpaceSlot
	digitSlot
	punctSlot
	slotKinds
)

// slot is one bit's position in a normalised text: the runes from..to-1
// (a digit run, or one character) and, for an opening parenthesis, the
// closing one that takes the same form (-1 if none).
type slot struct {
	kind              slotKind
	from, to, partner int
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// hanBeside reports whether runes[from:to] has a Chinese character on
// either side.
func hanBeside(runes []rune, from, to int) bool {
	return from > 0 && isHan(runes[from-1]) || to < len(runes) && isHan(runes[to])
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// slots returns the positions of a normalised text that carry a bit (see
// the top of this file).
func slots(runes []rune) []slot {
	var out []slot
	var open []int // slots of '(' awaiting their ')'
	// A cell with Chinese text may be saved as GBK, which has no no-break
	// space: its spaces away from a Chinese character carry nothing.
	chinese := slices.ContainsFunc(runes, isHan)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case r == ' ':
			if i > 0 && i < len(runes)-1 && !unicode.IsSpace(runes[i-1]) && !unicode.IsSpace(runes[i+1]) &&
				(unicode.IsLetter(runes[i-1]) || unicode.IsLetter(runes[i+1])) {
				switch {
				case hanBeside(runes, i, i+1):
					out = append(out, slot{hanSpaceSlot, i, i + 1, -1})
				case !chinese:
					out = append(out, slot{latinSpaceSlot, i, i + 1, -1})
				}
			}
		case isDigit(r):
			j := i
			for j < len(runes) && isDigit(runes[j]) {
				j++
			}
			if j-i <= maxDigits && hanBeside(runes, i, j) {
				out = append(out, slot{digitSlot, i, j, -1})
			}
			i = j - 1
		case r == ')' && len(open) > 0:
			out[open[len(open)-1]].partner = i
			open = open[:len(open)-1]
		case strings.ContainsRune(hanPunct, r) && hanBeside(runes, i, i+1):
			if r == '(' {
				open = append(open, len(out))
			}
			out = append(out, slot{punctSlot, i, i + 1, -1})
		}
	}
	return out
}

// Mark returns a cell written in the forms the fingerprint chooses. Its
// NFKC form is the NFKC form of the cell: the meaning does not change.
func (f *Fingerprint) Mark(cell string) string {
	runes, _ := canonical(cell)
	pos := slots(runes)
	if len(pos) == 0 {
		return strings.TrimFunc(cell, unicode.IsSpace) // what a mark-free cell is anyway, after a spreadsheet
	}
	// The text around the cell (a neutralising apostrophe, outer spaces)
	// is rebuilt from the normalised form; the writer neutralises again.
	bits := f.bits(string(runes), len(pos))
	for i, s := range pos {
		if !bits[i] {
			continue
		}
		switch s.kind {
		case latinSpaceSlot:
			runes[s.from] = latinSpace
		case hanSpaceSlot:
			runes[s.from] = hanSpace
		default:
			for k := s.from; k < s.to; k++ {
				runes[k] = wideOf[runes[k]]
			}
			if s.partner >= 0 {
				runes[s.partner] = wideOf[runes[s.partner]]
			}
		}
	}
	return string(runes)
}

// mark is one position as a file wrote it.
type mark struct {
	kind slotKind
	twin bool
}

// Marks are the fingerprint positions read from a file: per normalised
// cell text, the form each of its positions takes. A text seen twice with
// different forms (two exports pasted together) is dropped.
type Marks struct {
	cells    map[string][]mark
	conflict map[string]bool
	keys     []string // sample, once taken
	// twinSeen says which kinds of position the file wrote in their
	// other form at least once: a kind never seen so was stripped as a
	// whole (or carries nothing) and is not compared.
	twinSeen [slotKinds]bool
	// Claimed is the export id a visible watermark line names, if any.
	Claimed int64
}

// NewMarks returns an empty set of marks.
func NewMarks() *Marks {
	return &Marks{cells: map[string][]mark{}, conflict: map[string]bool{}}
}

// footerPattern finds the visible watermark line.
var footerPattern = regexp.MustCompile(`Custos export #(\d+)`)

// Observe reads the marks of one row's cells; the visible watermark line
// is not data and only names the export it claims to be.
func (m *Marks) Observe(cells []string) {
	for _, c := range cells {
		if sub := footerPattern.FindStringSubmatch(c); sub != nil {
			if id, err := strconv.ParseInt(sub[1], 10, 64); err == nil {
				m.Claimed = id
			}
			return
		}
	}
	for _, c := range cells {
		runes, twins := canonical(c)
		pos := slots(runes)
		if len(pos) == 0 {
			continue
		}
		key := string(runes)
		seen := make([]mark, len(pos))
		for i, s := range pos {
			seen[i] = mark{s.kind, twins[s.from]}
			m.twinSeen[s.kind] = m.twinSeen[s.kind] || twins[s.from]
		}
		if old, ok := m.cells[key]; ok && !slices.Equal(old, seen) {
			m.conflict[key] = true
		}
		m.cells[key] = seen
	}
}

// traceCells bounds how many distinct cells a comparison reads: a few
// hundred positions already make a chance match astronomically unlikely,
// and a trace compares the file with every export.
const traceCells = 400

// sample returns the distinct cells compared, in a fixed order.
func (m *Marks) sample() []string {
	if m.keys != nil {
		return m.keys
	}
	keys := make([]string, 0, len(m.cells))
	for k := range m.cells {
		if !m.conflict[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if len(keys) > traceCells {
		keys = keys[:traceCells]
	}
	m.keys = keys
	return keys
}

// Positions is how many distinct positions a comparison reads.
func (m *Marks) Positions() int {
	n := 0
	for _, k := range m.sample() {
		for _, p := range m.cells[k] {
			if m.twinSeen[p.kind] {
				n++
			}
		}
	}
	return n
}

// Marked reports whether the file holds any position in its other form at
// all: a file without one carries no fingerprint (never made by Custos, or
// stripped).
func (m *Marks) Marked() bool {
	return slices.Contains(m.twinSeen[:], true)
}

// Score compares the marks with the fingerprint: how many positions there
// are and how many agree.
func (f *Fingerprint) Score(m *Marks) (n, agree int) {
	for _, k := range m.sample() {
		seen := m.cells[k]
		want := f.bits(k, len(seen))
		for i, p := range seen {
			if !m.twinSeen[p.kind] {
				continue
			}
			n++
			if p.twin == want[i] {
				agree++
			}
		}
	}
	return n, agree
}

// ChanceAgreement is the chance that k or more of n positions agree with a
// fingerprint that did not write them (each agrees with probability ½).
func ChanceAgreement(n, k int) float64 {
	if k <= 0 {
		return 1
	}
	if k > n {
		return 0
	}
	// Sum the binomial tail in log space (n may be thousands).
	lf := func(x int) float64 { v, _ := math.Lgamma(float64(x + 1)); return v }
	total := 0.0
	for i := k; i <= n; i++ {
		total += math.Exp(lf(n) - lf(i) - lf(n-i) - float64(n)*math.Ln2)
	}
	return math.Min(1, total)
}

// Unmark returns a cell with the forms that stored data should not keep
// written back as their plain characters: no-break and ideographic spaces
// as spaces, full-width digits as digits, and the Kangxi-radical and
// compatibility-ideograph twins an earlier version wrote as the Chinese
// characters they stand for. What an export wrote, imported again, is
// stored as the text it stands for. Full-width punctuation stays: beside
// Chinese text it is the usual form, and either form means the same (search
// and duplicate keys fold it).
func Unmark(cell string) string {
	fold := func(r rune) (rune, bool) {
		switch {
		case r == latinSpace || r == hanSpace:
			return ' ', true
		case r >= '０' && r <= '９':
			return r - '０' + '0', true
		}
		b, ok := legacyTwins[r]
		return b, ok
	}
	if !strings.ContainsFunc(cell, func(r rune) bool { _, ok := fold(r); return ok }) {
		return cell
	}
	return strings.Map(func(r rune) rune {
		if b, ok := fold(r); ok {
			return b
		}
		return r
	}, cell)
}
