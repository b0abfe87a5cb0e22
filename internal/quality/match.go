package quality

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
)

// The duplicate finder's comparison (issue 14 §3): two records' values are
// compared field by field, each comparison giving a similarity 0..1 that
// says what it saw ("same mobile", "name 0.92", "date transposed"), and a
// weighted mean of the fields both records hold gives the pair's score.
// Everything here is pure: the service opens the records, hands over the
// plaintext values and blinds the blocking keys before they are stored.

// MatchKind says how a field's values are compared and blocked.
type MatchKind string

// The kinds of compared values.
const (
	MatchPersonName MatchKind = "person_name" // a person's name: tokens, swapped order, Chinese characters
	MatchCompany    MatchKind = "company"     // a company name, folded by CompanyKey
	MatchPhone      MatchKind = "phone"       // a phone in E.164
	MatchEmail      MatchKind = "email"       // a normalised e-mail address
	MatchDate       MatchKind = "date"        // a calendar date (digits compared)
	MatchCode       MatchKind = "code"        // an identifier: ID numbers, codes
	MatchText       MatchKind = "text"        // other text (addresses, places); all-digit values compare as codes
)

// MatchField is one value of a record to compare.
type MatchField struct {
	Name  string
	Kind  MatchKind
	Value string
}

// MatchRecord is one record's comparable values. It holds plaintext: it
// lives in memory only and is never stored or logged.
type MatchRecord struct {
	ID     int64
	Fields []MatchField
}

// FieldRule weighs one field (or every field of a kind): Weight is its
// share of the score, Agree the similarity at which it counts as agreeing
// (for MatchRules.Require and MinAgree).
type FieldRule struct {
	Weight float64 `json:"weight"`
	Agree  float64 `json:"agree"`
}

// MatchRules configure the comparison. Fields overrides Kinds for a named
// field (a weight of 0 leaves the field out). A pair is reported when its
// score reaches Threshold, every field in Require agrees (AND; a field one
// record lacks does not refuse the pair) and at least MinAgree fields agree
// (OR). MinEvidence is the total weight two records must have compared for
// the score to count fully: a pair that shares only a name is scaled down.
// BlockLimit is the largest block of records sharing a key that is paired:
// a bigger one (a common surname's code, a state) pairs everyone with
// everyone, and the true duplicates in it meet under other keys.
type MatchRules struct {
	Threshold   float64                 `json:"threshold"`
	Kinds       map[MatchKind]FieldRule `json:"kinds"`
	Fields      map[string]FieldRule    `json:"fields,omitempty"`
	Require     []string                `json:"require,omitempty"`
	MinAgree    int                     `json:"min_agree"`
	MinEvidence float64                 `json:"min_evidence"`
	BlockLimit  int                     `json:"block_limit"`
}

// DefaultMatchThreshold is the score at which a pair is reported by default:
// the figure docs/accuracy.md reports precision and recall at.
const DefaultMatchThreshold = 0.5

// DefaultMatchRules returns the default rules: names, phones, e-mails,
// identifiers and dates weigh most, other text (address parts) little each.
func DefaultMatchRules() MatchRules {
	return MatchRules{
		Threshold: DefaultMatchThreshold,
		Kinds: map[MatchKind]FieldRule{
			MatchPersonName: {Weight: 4, Agree: 0.85},
			MatchCompany:    {Weight: 3, Agree: 0.9},
			MatchPhone:      {Weight: 4, Agree: 0.9},
			MatchEmail:      {Weight: 4, Agree: 0.9},
			MatchDate:       {Weight: 2.5, Agree: 0.7},
			MatchCode:       {Weight: 3, Agree: 0.7},
			MatchText:       {Weight: 1, Agree: 0.85},
		},
		MinAgree:    2,
		MinEvidence: 6,
		BlockLimit:  100,
	}
}

// Validate checks the rules, naming the broken part ("threshold",
// "fields.x.weight", …) and the rule it breaks.
func (r MatchRules) Validate() (field, rule string) {
	if r.Threshold < 0 || r.Threshold > 1 || math.IsNaN(r.Threshold) {
		return "threshold", "range"
	}
	if r.MinAgree < 0 {
		return "min_agree", "range"
	}
	if r.MinEvidence < 0 || math.IsNaN(r.MinEvidence) {
		return "min_evidence", "range"
	}
	if r.BlockLimit < 2 || r.BlockLimit > 10_000 {
		return "block_limit", "range"
	}
	check := func(prefix string, fr FieldRule) (string, string) {
		if fr.Weight < 0 || fr.Weight > 100 || math.IsNaN(fr.Weight) {
			return prefix + ".weight", "range"
		}
		if fr.Agree < 0 || fr.Agree > 1 || math.IsNaN(fr.Agree) {
			return prefix + ".agree", "range"
		}
		return "", ""
	}
	for k, fr := range r.Kinds {
		if f, why := check("kinds."+string(k), fr); f != "" {
			return f, why
		}
	}
	for k, fr := range r.Fields {
		if f, why := check("fields."+k, fr); f != "" {
			return f, why
		}
	}
	return "", ""
}

// rule returns the rule of a field: its own, else its kind's.
func (r MatchRules) rule(f MatchField) FieldRule {
	if fr, ok := r.Fields[f.Name]; ok {
		return fr
	}
	return r.Kinds[f.Kind]
}

// Match is the outcome of comparing two records.
type Match struct {
	Score   float64
	Agree   int      // fields that agree
	Reasons []string // per compared field, strongest first
	Passed  bool     // Score, Require and MinAgree are met
}

// Explain joins the reasons: "same mobile; name 0.92; postcode same".
func (m Match) Explain() string { return strings.Join(m.Reasons, "; ") }

type fieldOutcome struct {
	reason string
	sim    float64
	weight float64
}

// Compare scores two records under the rules.
func (r MatchRules) Compare(a, b MatchRecord) Match {
	var outs []fieldOutcome
	var sum, weights float64
	m := Match{}
	agreed := map[string]bool{}
	for _, fa := range a.Fields {
		if strings.TrimSpace(fa.Value) == "" {
			continue
		}
		i := slices.IndexFunc(b.Fields, func(f MatchField) bool { return f.Name == fa.Name })
		if i < 0 || strings.TrimSpace(b.Fields[i].Value) == "" {
			continue
		}
		fr := r.rule(fa)
		sim, how := compareValues(fa.Kind, fa.Value, b.Fields[i].Value)
		weight := fr.Weight
		if fa.Kind == MatchText && how != "" && isIdentifier(fa.Value) && isIdentifier(b.Fields[i].Value) {
			// A long number in a text field is an identifier: it says more
			// than a word of an address.
			weight = max(weight, r.Kinds[MatchCode].Weight)
		}
		if weight <= 0 {
			continue
		}
		sum += weight * sim
		weights += weight
		if sim >= fr.Agree {
			m.Agree++
			agreed[fa.Name] = true
		}
		outs = append(outs, fieldOutcome{reason: reasonText(fa.Name, sim, how), sim: sim, weight: weight})
	}
	if weights == 0 {
		return m
	}
	m.Score = sum / weights
	if weights < r.MinEvidence {
		m.Score *= weights / r.MinEvidence
	}
	m.Score = math.Round(m.Score*1000) / 1000
	slices.SortStableFunc(outs, func(x, y fieldOutcome) int {
		switch {
		case x.sim*x.weight > y.sim*y.weight:
			return -1
		case x.sim*x.weight < y.sim*y.weight:
			return 1
		}
		return 0
	})
	for _, o := range outs {
		m.Reasons = append(m.Reasons, o.reason)
	}
	m.Passed = m.Score >= r.Threshold && m.Agree >= r.MinAgree
	for _, name := range r.Require {
		if !agreed[name] && hasValue(a, name) && hasValue(b, name) {
			m.Passed = false
		}
	}
	return m
}

func hasValue(r MatchRecord, name string) bool {
	return slices.ContainsFunc(r.Fields, func(f MatchField) bool { return f.Name == name && strings.TrimSpace(f.Value) != "" })
}

// reasonText says what a field's comparison saw, without its values.
func reasonText(name string, sim float64, how string) string {
	switch {
	case how != "":
		return name + " " + how
	case sim >= 1:
		return "same " + name
	case sim <= 0:
		return name + " differs"
	}
	return fmt.Sprintf("%s %.2f", name, sim)
}

// compareValues returns the similarity of two values of a kind and, when a
// named kind of near miss explains it, its name.
func compareValues(kind MatchKind, a, b string) (float64, string) {
	switch kind {
	case MatchPersonName:
		return nameSimilarity(a, b), ""
	case MatchCompany:
		ka, kb := CompanyKey(a), CompanyKey(b)
		if ka == kb {
			return 1, ""
		}
		return stretch(jaroWinkler([]rune(ka), []rune(kb)), 0.7), ""
	case MatchPhone:
		return comparePhones(a, b)
	case MatchEmail:
		return compareEmails(a, b)
	case MatchDate:
		return compareDates(digitsOf(a), digitsOf(b))
	case MatchCode:
		return compareCodes(codeFold(a), codeFold(b))
	}
	if isDigits(a) && isDigits(b) {
		return compareCodes(a, b)
	}
	return textSimilarity(a, b), ""
}

// stretch maps a string similarity onto 0..1 from floor up: two unrelated
// words still share letters, so raw Jaro-Winkler rarely falls below ~0.5.
func stretch(jw, floor float64) float64 {
	if jw <= floor {
		return 0
	}
	return math.Round((jw-floor)/(1-floor)*100) / 100
}

// nameTokens folds a name into its words; a run of Han characters is one
// word (Chinese names are written without spaces, or with a stray one).
func nameTokens(s string) []string {
	words := strings.FieldsFunc(fold(s), func(r rune) bool { return !isWordRune(r) })
	// Join Han words split by stray spaces ("罗 建华" is 罗建华).
	var out []string
	for _, w := range words {
		if n := len(out); n > 0 && allHan(out[n-1]) && allHan(w) {
			out[n-1] += w
			continue
		}
		out = append(out, w)
	}
	return out
}

func allHan(s string) bool {
	for _, r := range s {
		if !IsHan(r) {
			return false
		}
	}
	return s != ""
}

// nameSimilarity compares two person names: as written, in sorted word
// order (given name and surname swapped), and word by word (a missing or
// abbreviated word counts for part).
func nameSimilarity(a, b string) float64 {
	ta, tb := nameTokens(a), nameTokens(b)
	if len(ta) == 0 || len(tb) == 0 {
		return 0
	}
	if slices.Equal(ta, tb) {
		return 1
	}
	best := jaroWinkler([]rune(strings.Join(ta, " ")), []rune(strings.Join(tb, " ")))
	sa, sb := slices.Clone(ta), slices.Clone(tb)
	slices.Sort(sa)
	slices.Sort(sb)
	if slices.Equal(sa, sb) {
		return 0.95
	}
	best = max(best, jaroWinkler([]rune(strings.Join(sa, " ")), []rune(strings.Join(sb, " "))))
	best = max(best, tokenAlign(ta, tb))
	return stretch(best, 0.7)
}

// tokenAlign pairs each word of the shorter list with its best match in the
// longer one; a word without a partner counts 0.5 (missing, not wrong).
func tokenAlign(ta, tb []string) float64 {
	if len(ta) > len(tb) {
		ta, tb = tb, ta
	}
	used := make([]bool, len(tb))
	var sum float64
	for _, x := range ta {
		bi, bs := -1, 0.0
		for j, y := range tb {
			if used[j] {
				continue
			}
			s := jaroWinkler([]rune(x), []rune(y))
			if (len([]rune(x)) == 1 || len([]rune(y)) == 1) && []rune(x)[0] == []rune(y)[0] {
				s = max(s, 0.9) // an initial
			}
			if s > bs {
				bi, bs = j, s
			}
		}
		if bi >= 0 {
			used[bi] = true
			sum += bs
		}
	}
	sum += 0.5 * float64(len(tb)-len(ta))
	return sum / float64(len(tb))
}

// textSimilarity compares free text word by word, order ignored, and as a
// whole; the better wins.
func textSimilarity(a, b string) float64 {
	ta, tb := nameTokens(a), nameTokens(b)
	if len(ta) == 0 || len(tb) == 0 {
		return 0
	}
	if slices.Equal(ta, tb) {
		return 1
	}
	whole := jaroWinkler([]rune(strings.Join(ta, " ")), []rune(strings.Join(tb, " ")))
	return stretch(max(whole, tokenAlign(ta, tb)), 0.7)
}

func comparePhones(a, b string) (float64, string) {
	da, db := digitsOf(a), digitsOf(b)
	switch {
	case da == db:
		return 1, ""
	case len(da) >= 8 && len(db) >= 8 && da[len(da)-8:] == db[len(db)-8:]:
		return 0.9, "last 8 digits same"
	case editDistance(da, db) == 1:
		return 0.6, "one digit off"
	}
	return 0, ""
}

func compareEmails(a, b string) (float64, string) {
	a, b = fold(strings.TrimSpace(a)), fold(strings.TrimSpace(b))
	if a == b {
		return 1, ""
	}
	la, _, _ := strings.Cut(a, "@")
	lb, _, _ := strings.Cut(b, "@")
	switch {
	case la == lb && len(la) >= 4:
		return 0.7, "same local part"
	case editDistance(a, b) == 1:
		return 0.8, "one character off"
	}
	return 0, ""
}

// compareDates compares dates as digits (YYYYMMDD or any other order both
// share): same, two digits transposed, day and month swapped, one digit off.
func compareDates(a, b string) (float64, string) {
	switch {
	case a == "" || b == "":
		return 0, ""
	case a == b:
		return 1, ""
	case len(a) == 8 && len(b) == 8 && a[:4] == b[:4] && a[4:6] == b[6:8] && a[6:8] == b[4:6]:
		return 0.8, "day and month swapped"
	case transposed(a, b):
		return 0.8, "digits transposed"
	case len(a) == len(b) && hamming(a, b) == 1:
		return 0.7, "one digit off"
	}
	return 0, ""
}

// compareCodes compares identifiers: same, or one edit apart.
func compareCodes(a, b string) (float64, string) {
	switch {
	case a == b:
		return 1, ""
	case transposed(a, b):
		return 0.7, "digits transposed"
	case editDistance(a, b) == 1:
		return 0.7, "one character off"
	}
	return 0, ""
}

// codeFold keeps an identifier's letters and digits, folded.
func codeFold(s string) string { return keepRunes(fold(s), isWordRune) }

// digitsOf keeps the ASCII digits of s.
func digitsOf(s string) string {
	return keepRunes(s, func(r rune) bool { return r >= '0' && r <= '9' })
}

func keepRunes(s string, keep func(rune) bool) string {
	return strings.Map(func(r rune) rune {
		if keep(r) {
			return r
		}
		return -1
	}, s)
}

// isIdentifier reports whether a text value is a number long enough to be
// an identifier (an ID or account number): seven digits or more, longer
// than postcodes (four to six digits) and house numbers.
func isIdentifier(s string) bool { return isDigits(s) && len(strings.TrimSpace(s)) >= 7 }

func isDigits(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// transposed reports whether b is a with two adjacent characters swapped.
func transposed(a, b string) bool {
	if len(a) != len(b) || a == b {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
}

func hamming(a, b string) int {
	n := 0
	for i := range len(a) {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// editDistance is the Levenshtein distance of two strings, by runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// jaroWinkler is the Jaro-Winkler similarity of two rune strings (prefix
// scale 0.1, up to four characters).
func jaroWinkler(a, b []rune) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if slices.Equal(a, b) {
		return 1
	}
	window := max(len(a), len(b))/2 - 1
	window = max(window, 0)
	ma := make([]bool, len(a))
	mb := make([]bool, len(b))
	matches := 0
	for i := range a {
		lo, hi := max(0, i-window), min(len(b), i+window+1)
		for j := lo; j < hi; j++ {
			if !mb[j] && a[i] == b[j] {
				ma[i], mb[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}
	t, j := 0, 0
	for i := range a {
		if !ma[i] {
			continue
		}
		for !mb[j] {
			j++
		}
		if a[i] != b[j] {
			t++
		}
		j++
	}
	m := float64(matches)
	jaro := (m/float64(len(a)) + m/float64(len(b)) + (m-float64(t)/2)/m) / 3
	prefix := 0
	for prefix < min(4, len(a), len(b)) && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}

// soundex is the American Soundex code of a Latin word ("robert" R163); a
// word in another script is its own code.
func soundex(w string) string {
	const codes = "01230120022455012623010202" // a..z
	var b strings.Builder
	var last byte
	for i, r := range w {
		if r > unicode.MaxASCII || !unicode.IsLetter(r) {
			if b.Len() == 0 {
				return w
			}
			continue
		}
		c := codes[unicode.ToLower(r)-'a']
		if i == 0 || b.Len() == 0 {
			b.WriteRune(unicode.ToUpper(r))
			last = c
			continue
		}
		if c != '0' && c != last {
			b.WriteByte(c)
			if b.Len() == 4 {
				break
			}
		}
		if r != 'h' && r != 'w' {
			last = c
		}
	}
	for b.Len() > 0 && b.Len() < 4 {
		b.WriteByte('0')
	}
	return b.String()
}

// BlockingKeys returns the keys under which a record is filed for the
// candidate search: two records become a candidate pair when they share
// one. Keys are plaintext; the caller blinds them before storing.
//
// A key must stay selective as the data grows, or its blocks grow with it
// and the pairs with their square: so only values that nearly identify a
// person are keys by themselves — phones, e-mails, company names, long
// numbers (ID numbers). A name is not one (a million people hold a few
// thousand Chinese two-character names): the whole name — a Chinese name,
// or the sorted phonetic codes of a Latin name's words, so a swapped or
// misspelt name still meets — is a key together with each other value
// (dates, short numbers such as postcodes, text such as a suburb), and a
// date also by its sorted digits, so two transposed digits still meet. A
// name's parts — each Latin word's Soundex, a Chinese name's surname and
// character pairs, so a typo in one part still meets the other — are keys
// with a date; with another value they are weak keys (WeakKeyPrefix),
// paired only while their block stays within WeakBlockLimit. A date by its
// sorted digits together with another value meets the copies whose name
// changed beyond its codes.
func BlockingKeys(rec MatchRecord) []string {
	var keys []string
	seen := map[string]bool{}
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	var whole []string  // whole-name codes: keys with each value
	var codes []string  // name-part codes: keys with a date, weak keys with another value
	var values []string // field:value pairs that are keys only with a name code
	var dates []string  // the dates among them
	var loose []string  // the dates by their sorted digits: keys with a whole name or another value
	for _, f := range rec.Fields {
		v := strings.TrimSpace(f.Value)
		if v == "" {
			continue
		}
		switch f.Kind {
		case MatchPersonName:
			var latin []string
			for _, w := range nameTokens(v) {
				if allHan(w) {
					whole = append(whole, "hn"+w)
					rs := []rune(w)
					codes = append(codes, "h"+string(rs[0]))
					for i := 0; i+1 < len(rs); i++ {
						codes = append(codes, "h"+string(rs[i:i+2]))
					}
					continue
				}
				if len([]rune(w)) > 1 {
					latin = append(latin, soundex(w))
				}
			}
			if len(latin) > 0 {
				codes = append(codes, latin...)
				slices.Sort(latin)
				whole = append(whole, "np"+strings.Join(latin, " "))
			}
		case MatchCompany:
			add("co:" + CompanyKey(v))
		case MatchPhone, MatchEmail:
			add(string(f.Kind) + ":" + fold(v))
		case MatchDate:
			if d := digitsOf(v); d != "" {
				values = append(values, f.Name+":"+d)
				dates = append(dates, f.Name+":"+d)
				// Sorted digits: a date with two digits transposed
				// (a common slip) files with a whole name under the
				// same key.
				ds := []byte(d)
				slices.Sort(ds)
				loose = append(loose, f.Name+"~"+string(ds))
			}
		case MatchCode:
			add("id:" + f.Name + ":" + codeFold(v))
		default:
			switch {
			case isIdentifier(v):
				add("id:" + f.Name + ":" + v)
			case isDigits(v):
				values = append(values, f.Name+":"+v)
			default:
				words := nameTokens(v)
				slices.Sort(words)
				values = append(values, f.Name+":"+strings.Join(words, " "))
			}
		}
	}
	for _, c := range whole {
		for _, v := range values {
			if !slices.Contains(dates, v) { // a date by its sorted digits below
				add("nx:" + c + ":" + v)
			}
		}
		for _, v := range loose {
			add("nx:" + c + ":" + v)
		}
	}
	for _, c := range codes {
		for _, v := range dates {
			add("nx:" + c + ":" + v)
		}
		for _, v := range values {
			if !slices.Contains(dates, v) {
				add(WeakKeyPrefix + c + ":" + v)
			}
		}
	}
	// A date with another value meets the copies whose name changed
	// beyond its codes (a missing given name and a misspelt surname); by
	// its sorted digits, also when the date has two digits transposed.
	for i, d := range dates {
		for _, v := range values {
			if v != d {
				add("dx:" + loose[i] + ":" + v)
			}
		}
	}
	return keys
}

// WeakKeyPrefix starts the keys that pair records only while their blocks
// are small: at most WeakBlockLimit records (see BlockingKeys). A name part
// with a postcode holds a few records among thousands and hundreds among
// millions; a weak block that large is skipped, so its pairs stay linear
// in the records while small data still gains the pairs it finds.
const (
	WeakKeyPrefix  = "wx:"
	WeakBlockLimit = 5
)
