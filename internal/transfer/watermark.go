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
// normalisation (NFKC) folds into one: an inner space written as U+0020 or
// as a no-break space U+00A0, and a Chinese character written as itself
// or as its Kangxi-radical or compatibility-ideograph twin (大 / ⼤, 北 /
// 北), drawn alike by the fonts. Which form each position takes is a bit
// of HMAC-SHA256 under the export's own key, of the cell's normalised text
// and the position's number. So the mark is in every cell, depends on no
// row order, column or header, and survives what spreadsheets do to a file
// they open and save again (line ends, byte-order marks, quoting, trailing
// spaces, number formats, dropped rows and columns). A file is traced by
// comparing the forms it holds with what each export's key expects: the
// export that wrote it agrees everywhere, any other on about half.
//
// What the forms are not: trailing or doubled spaces (spreadsheets trim
// them), zero-width characters (some tools strip them), letter case (an
// e-mail's local part is case-sensitive), row order (a sort undoes it).

// markSpace is the twin of an inner space.
const markSpace = '\u00a0'

var (
	// twinOf maps a character to its twin; baseOf maps both back.
	twinOf = map[rune]rune{}
	baseOf = map[rune]rune{markSpace: ' '}
)

func init() {
	add := func(from, to rune) {
		for r := from; r <= to; r++ {
			folded := []rune(norm.NFKC.String(string(r)))
			if len(folded) != 1 || folded[0] == r || !unicode.Is(unicode.Han, folded[0]) || folded[0] < 0x4E00 || folded[0] > 0x9FFF {
				continue
			}
			if _, taken := twinOf[folded[0]]; !taken {
				twinOf[folded[0]] = r
			}
			baseOf[r] = folded[0]
		}
	}
	add(0x2F00, 0x2FD5) // Kangxi radicals: folded only by NFKC
	add(0xF900, 0xFAFF) // CJK compatibility ideographs
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
// for each character of it, whether the cell wrote its twin.
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

// slots returns the positions of a normalised text that carry a bit: an
// inner space between two non-spaces next to a letter (not one in a date
// or a number, which a spreadsheet may rewrite), and a character that has
// a twin.
func slots(runes []rune) []int {
	var out []int
	for i, r := range runes {
		switch {
		case r == ' ':
			if i > 0 && i < len(runes)-1 && !unicode.IsSpace(runes[i-1]) && !unicode.IsSpace(runes[i+1]) &&
				(unicode.IsLetter(runes[i-1]) || unicode.IsLetter(runes[i+1])) {
				out = append(out, i)
			}
		default:
			if _, ok := twinOf[r]; ok {
				out = append(out, i)
			}
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
	for i, p := range pos {
		if !bits[i] {
			continue
		}
		if runes[p] == ' ' {
			runes[p] = markSpace
		} else {
			runes[p] = twinOf[runes[p]]
		}
	}
	return string(runes)
}

// Marks are the fingerprint positions read from a file: per normalised
// cell text, the form each of its positions takes. A text seen twice with
// different forms (two exports pasted together) is dropped.
type Marks struct {
	cells    map[string][]bool
	conflict map[string]bool
	keys     []string // sample, once taken
	// Claimed is the export id a visible watermark line names, if any.
	Claimed int64
}

// NewMarks returns an empty set of marks.
func NewMarks() *Marks {
	return &Marks{cells: map[string][]bool{}, conflict: map[string]bool{}}
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
		seen := make([]bool, len(pos))
		for i, p := range pos {
			seen[i] = twins[p]
		}
		if old, ok := m.cells[key]; ok && !equalBits(old, seen) {
			m.conflict[key] = true
		}
		m.cells[key] = seen
	}
}

func equalBits(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
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
		n += len(m.cells[k])
	}
	return n
}

// Twins reports whether the file holds any twin form at all: a file
// without one carries no fingerprint (never made by Custos, or stripped).
func (m *Marks) Twins() bool {
	for k, v := range m.cells {
		for _, b := range v {
			if b && !m.conflict[k] {
				return true
			}
		}
	}
	return false
}

// Score compares the marks with the fingerprint: how many positions there
// are and how many agree.
func (f *Fingerprint) Score(m *Marks) (n, agree int) {
	for _, k := range m.sample() {
		seen := m.cells[k]
		want := f.bits(k, len(seen))
		for i := range seen {
			n++
			if seen[i] == want[i] {
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

// Unmark returns a cell with every fingerprint form written back as its
// plain character (a twin as its base, a no-break space as a space): what
// an export wrote, imported again, is stored as the text it stands for.
func Unmark(cell string) string {
	if !strings.ContainsFunc(cell, func(r rune) bool { _, ok := baseOf[r]; return ok }) {
		return cell
	}
	return strings.Map(func(r rune) rune {
		if b, ok := baseOf[r]; ok {
			return b
		}
		return r
	}, cell)
}
