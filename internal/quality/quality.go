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

// CompanyKey folds a company name into a comparison key: width and case
// folded, whitespace and punctuation removed (text inside brackets is kept,
// since "腾讯（深圳）" and "腾讯(深圳)" must match), and one trailing legal-form
// suffix stripped. Traditional characters are not converted. It returns ""
// for a name with nothing left after folding; a name that is only a suffix
// keeps it rather than becoming "".
func CompanyKey(raw string) string {
	words := strings.FieldsFunc(fold(raw), func(r rune) bool { return !isWordRune(r) })
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
	runes := []rune(fold(text))
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
