// Package quality is the one place where contact and company data is folded
// into canonical form. Duplicate detection (撞单) and search both depend on
// two records normalising to the same string, so every caller must go
// through these functions rather than rolling its own trimming or casing.
package quality

import (
	"cmp"
	"errors"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"
)

// ErrInvalidPhone reports a phone number that cannot be parsed or is not a
// valid number for its region.
var ErrInvalidPhone = errors.New("quality: invalid phone number")

// ErrInvalidEmail reports an email address that is not a bare addr-spec with
// a dotted domain.
var ErrInvalidEmail = errors.New("quality: invalid email address")

// ErrInvalidCreditCode reports a unified social credit code with the wrong
// length, a character outside the code alphabet or a wrong check character.
var ErrInvalidCreditCode = errors.New("quality: invalid unified social credit code")

// fold applies NFKC and lower case, so full-width input typed with a Chinese
// IME ("ＡＣＭＥ", "＠", "（") compares equal to its half-width form.
func fold(s string) string {
	return strings.ToLower(norm.NFKC.String(s))
}

// Normalizer holds the region used to read phone numbers written without a
// country code; it is the only normalisation that depends on configuration.
type Normalizer struct {
	region string
}

// NewNormalizer returns a Normalizer for the given ISO 3166 region code;
// "" means "CN" because most Custos customers dial Chinese numbers.
func NewNormalizer(defaultRegion string) *Normalizer {
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))
	if region == "" {
		region = "CN"
	}
	return &Normalizer{region: region}
}

// DefaultRegion returns the region used for numbers without a country code.
func (n *Normalizer) DefaultRegion() string {
	return n.region
}

// Phone returns raw in E.164 form ("+8613800138000") or ErrInvalidPhone.
// Separators and full-width characters are accepted; a "00" prefix is read as
// an international prefix where it is the default region's one (as in CN).
func (n *Normalizer) Phone(raw string) (string, error) {
	s := strings.TrimSpace(norm.NFKC.String(raw))
	if s == "" {
		return "", ErrInvalidPhone
	}
	num, err := phonenumbers.Parse(s, n.region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", ErrInvalidPhone
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// Email returns raw trimmed, width-folded and lower-cased, or ErrInvalidEmail.
// The whole address is lower-cased although the local part is formally case
// sensitive: no real mail provider treats it so, and duplicate detection
// must see "Zhang@X.cn" and "zhang@x.cn" as one person.
func Email(raw string) (string, error) {
	s := strings.TrimSpace(fold(raw))
	addr, err := mail.ParseAddress(s)
	// Comparing with the input rejects display names, angle brackets and
	// comments, which ParseAddress would silently strip.
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", ErrInvalidEmail
	}
	domain := s[strings.LastIndexByte(s, '@')+1:]
	if !strings.Contains(domain, ".") {
		return "", ErrInvalidEmail
	}
	return s, nil
}

// englishSuffixes are legal forms matched as whole trailing words, longest
// first; matching on words keeps "Costco" and "Zinc" intact.
var englishSuffixes = [][]string{
	{"company", "limited"},
	{"co", "ltd"},
	{"incorporated"},
	{"corporation"},
	{"company"},
	{"limited"},
	{"ltd"},
	{"inc"},
	{"llc"},
	{"corp"},
	{"gmbh"},
	{"plc"},
	{"co"},
}

// chineseSuffixes are legal forms matched at the end of the joined name,
// longest first. 集团 is deliberately not a suffix: it is not a legal form,
// and a group and its operating company are usually separate customers, so
// "X集团有限公司" folds to "X集团" (equal to "X集团") but not to "X".
var chineseSuffixes = []string{"股份有限公司", "有限责任公司", "有限公司", "公司"}

// CompanyKey folds a company name into its exact duplicate-check key:
// Company(raw).Key().
func CompanyKey(raw string) string {
	return Company(raw).Key()
}

// CompanyName is a company name split for the duplicate check: the place it
// carries and the rest of it (Core).
type CompanyName struct {
	// Place is the short name of the most specific place the name carries
	// ("北京", "深圳", "延边"), a district read as its city; "" for none.
	Place string
	// Core is the name without its place: width and case folded,
	// whitespace and punctuation removed (text inside brackets is kept,
	// since "平安保险（集团）" and "平安保险(集团)" must match) and one trailing
	// legal-form suffix stripped. Traditional characters are not converted.
	Core string
}

// Key is the exact duplicate-check key: the place followed by the core, so
// 中铭科技（北京）有限公司, 中铭（北京）科技有限公司 and 北京中铭科技有限公司 are one
// key ("北京中铭科技") and 成都华信物流 and 深圳华信物流 are two. It is "" for a
// name with nothing left after folding; a name that is only a suffix keeps
// it rather than becoming "".
func (c CompanyName) Key() string { return c.Place + c.Core }

// Company splits a company name into its place and core. The place is read
// from brackets anywhere in the name (full- or half-width; several places
// in one bracket, "（北京市海淀区）", are one place) and from the start of the
// name ("广东省深圳市…", "北京…"), with or without 省/市/区; places must agree
// (a province and a city in it, a city and one of its districts): a leading
// name that disagrees with the bracket ("金华科技（北京）") stays part of the
// core, being more likely the brand. A leading place is only taken off when
// at least two characters remain, so "北京银行" is 北京 + 银行 but "北京有限公司"
// keeps its name. Names with no Han place (English names) only fold.
func Company(raw string) CompanyName {
	s, at, found := bracketPlaces(fold(raw))
	core := companyCore(strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) }))
	for {
		p, n, ok := leadingPlace(core)
		if !ok || utf8.RuneCountInString(core[n:]) < 2 {
			break
		}
		if found {
			if p, ok = compatible(at, p); !ok {
				break
			}
		}
		at, found, core = p, true, core[n:]
	}
	if !found {
		return CompanyName{Core: core}
	}
	return CompanyName{Place: placeShort[at], Core: core}
}

// companyCore joins a folded name's words and strips one legal-form suffix.
func companyCore(words []string) string {
	key := strings.Join(words, "")
	// Only the longest matching suffix is considered, so "有限公司" alone stays
	// whole instead of falling through to "公司" and becoming "有限".
	for _, suffix := range englishSuffixes {
		if n := len(words) - len(suffix); n >= 0 && slices.Equal(words[n:], suffix) {
			return cmp.Or(strings.Join(words[:n], ""), key)
		}
	}
	for _, suffix := range chineseSuffixes {
		if rest, ok := strings.CutSuffix(key, suffix); ok {
			return cmp.Or(rest, key)
		}
	}
	return key
}

// brackets are the bracket pairs after folding (NFKC makes （） and ［］
// half-width).
var brackets = map[rune]rune{'(': ')', '[': ']', '【': '】', '〔': '〕', '〈': '〉', '《': '》'}

// bracketPlaces removes the bracketed groups that name a place and returns
// the place. A group that names something else, or a place disagreeing
// with one found before, stays.
func bracketPlaces(s string) (string, place, bool) {
	var at place
	found := false
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if closing, ok := brackets[r]; ok {
			if end := strings.IndexRune(s[i+size:], closing); end >= 0 {
				inner := s[i+size : i+size+end]
				if p, ok := placeRun(strings.Join(strings.FieldsFunc(inner, func(r rune) bool { return !isWordRune(r) }), "")); ok {
					if !found {
						at, found = p, true
						i += size + end + utf8.RuneLen(closing)
						continue
					}
					if merged, ok := compatible(at, p); ok {
						at = merged
						i += size + end + utf8.RuneLen(closing)
						continue
					}
				}
			}
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String(), at, found
}

// placeRun reads s as nothing but agreeing places ("北京", "北京市海淀区").
func placeRun(s string) (place, bool) {
	var at place
	found := false
	for s != "" {
		p, n, ok := leadingPlace(s)
		if !ok {
			return place{}, false
		}
		if found {
			if p, ok = compatible(at, p); !ok {
				return place{}, false
			}
		}
		at, found, s = p, true, s[n:]
	}
	return at, found
}

// leadingPlace finds the longest place name s starts with and its length
// in bytes. "市场" is a word, not a city's suffix: "北京市场调研" is 北京 +
// 市场调研.
func leadingPlace(s string) (place, int, bool) {
	runes := []rune(s)
	for n := min(maxPlaceRunes, len(runes)); n >= 2; n-- {
		name := string(runes[:n])
		p, ok := places[name]
		if !ok || strings.HasSuffix(name, "市") && n < len(runes) && runes[n] == '场' {
			continue
		}
		return p, len(name), true
	}
	return place{}, 0, false
}

// isWordRune reports whether r belongs in a word. Marks are included so that
// scripts with combining vowel signs are not split mid-word.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r)
}

// creditCodeAlphabet is the GB 32100-2015 alphabet; a character's value is
// its index. I, O, Z, S and V are excluded to avoid confusion with digits.
const creditCodeAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var creditCodeWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CreditCode returns the canonical upper-case unified social credit code
// (统一社会信用代码, GB 32100-2015) or ErrInvalidCreditCode when the length,
// the alphabet or the check character is wrong.
func CreditCode(raw string) (string, error) {
	s := strings.ToUpper(strings.TrimSpace(norm.NFKC.String(raw)))
	if len(s) != 18 {
		return "", ErrInvalidCreditCode
	}
	sum := 0
	for i := range 17 {
		v := strings.IndexByte(creditCodeAlphabet, s[i])
		if v < 0 {
			return "", ErrInvalidCreditCode
		}
		sum += v * creditCodeWeights[i]
	}
	check := (31 - sum%31) % 31
	if s[17] != creditCodeAlphabet[check] {
		return "", ErrInvalidCreditCode
	}
	return s, nil
}

// IsHan reports whether r is a Han (Chinese) character.
func IsHan(r rune) bool {
	return unicode.Is(unicode.Han, r)
}

// PersonName brings a person's name into the form it is stored in: trimmed,
// and the spaces typed inside a Chinese name removed ("罗 建华" and "罗　建华"
// become "罗建华"). Only spaces between two Han characters go: "John Smith"
// and "Smith 建华" keep theirs.
func PersonName(raw string) string {
	return joinHan(strings.TrimSpace(raw))
}

// isHorizontalSpace reports a space within a line: a Unicode space
// separator (U+0020, U+00A0, the ideographic U+3000, …) or a tab. Line
// breaks still separate, so texts joined by "\n" stay apart.
func isHorizontalSpace(r rune) bool {
	return r == '\t' || unicode.Is(unicode.Zs, r)
}

// joinHan removes the runs of horizontal space between two Han characters.
func joinHan(s string) string {
	if !strings.ContainsFunc(s, isHorizontalSpace) {
		return s
	}
	runes := []rune(s)
	var b strings.Builder
	for i := 0; i < len(runes); i++ {
		if isHorizontalSpace(runes[i]) && i > 0 && IsHan(runes[i-1]) {
			j := i
			for j < len(runes) && isHorizontalSpace(runes[j]) {
				j++
			}
			if j < len(runes) && IsHan(runes[j]) {
				i = j - 1
				continue
			}
		}
		b.WriteRune(runes[i])
	}
	return b.String()
}

// SearchTerms turns text into search terms; indexing and querying must both
// use it so that they agree. Han text has no spaces, so each run of Han
// characters becomes overlapping bigrams ("北京科技" -> 北京 京科 科技), which
// lets any two-character query match without a dictionary; a lone Han
// character stays a term of its own. Runs of other letters and digits become
// whole words; everything else separates. Terms are de-duplicated in order of
// first appearance.
func SearchTerms(text string) []string {
	var terms []string
	seen := make(map[string]bool)
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			terms = append(terms, t)
		}
	}
	// Spaces between Han characters do not separate: "罗 建华" is indexed
	// as 罗建华, so a search for 罗建华 finds it.
	runes := []rune(joinHan(fold(text)))
	for i := 0; i < len(runes); {
		j := i + 1
		switch {
		case IsHan(runes[i]):
			for j < len(runes) && IsHan(runes[j]) {
				j++
			}
			if j-i == 1 {
				add(string(runes[i]))
			}
			for k := i; k+1 < j; k++ {
				add(string(runes[k : k+2]))
			}
		case isWordRune(runes[i]):
			for j < len(runes) && isWordRune(runes[j]) && !IsHan(runes[j]) {
				j++
			}
			add(string(runes[i:j]))
		}
		i = j
	}
	return terms
}
