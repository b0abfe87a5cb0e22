package quality

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Mask shows a value the way a role that may not see it does: enough to
// recognise the record, never enough to use it. kind is one of the crm mask
// kinds ("phone", "email", "id", "name", "text"); an unknown kind hides the
// whole value.
func (n *Normalizer) Mask(kind, v string) string {
	if v == "" {
		return ""
	}
	switch kind {
	case "phone":
		return n.maskPhone(v)
	case "email":
		return maskEmail(v)
	case "id":
		return keepEnds(v, 4, 4)
	case "name":
		return maskName(v)
	case "text":
		return keepEnds(v, 1, 1)
	}
	return "****"
}

// maskPhone keeps the first three and last four digits of the national
// number (138****5678); numbers of another country keep their +code.
func (n *Normalizer) maskPhone(v string) string {
	num, err := phonenumbers.Parse(v, n.region)
	if err != nil {
		return keepEnds(v, 2, 2)
	}
	national := phonenumbers.GetNationalSignificantNumber(num)
	head, tail := 3, 4
	if len(national) < 10 {
		head, tail = 2, 2
	}
	masked := keepEnds(national, head, tail)
	if int(num.GetCountryCode()) == phonenumbers.GetCountryCodeForRegion(n.region) {
		return masked
	}
	return "+" + strconv.Itoa(int(num.GetCountryCode())) + " " + masked
}

// maskEmail keeps the first character of the local part and the domain:
// z***@example.com.
func maskEmail(v string) string {
	local, domain, ok := strings.Cut(v, "@")
	if !ok {
		return keepEnds(v, 1, 0)
	}
	r, _ := utf8.DecodeRuneInString(local)
	return string(r) + "***@" + domain
}

// maskName keeps the first character of each word: 张* , J*** S****.
func maskName(v string) string {
	words := strings.Fields(v)
	for i, w := range words {
		r, size := utf8.DecodeRuneInString(w)
		words[i] = string(r) + strings.Repeat("*", max(utf8.RuneCountInString(w[size:]), 1))
	}
	return strings.Join(words, " ")
}

// keepEnds keeps head runes at the start and tail at the end and stars the
// rest; a value too short to keep anything is all stars.
func keepEnds(v string, head, tail int) string {
	r := []rune(v)
	if len(r) <= head+tail {
		return strings.Repeat("*", max(len(r), 2))
	}
	return string(r[:head]) + strings.Repeat("*", len(r)-head-tail) + string(r[len(r)-tail:])
}
