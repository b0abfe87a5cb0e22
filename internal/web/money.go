package web

import (
	"strconv"
	"strings"

	"custos/internal/crm"
	"custos/internal/i18n"
)

// Amounts are stored as int64 minor units plus an ISO 4217 code
// (DESIGN.md §4); people type and read them in major units.

// currencyDigits lists the currencies whose minor unit is not a hundredth
// (ISO 4217); every other currency has two decimals.
var currencyDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
	"UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// minorDigits is the number of decimals of a currency's minor unit.
func minorDigits(currency string) int {
	if d, ok := currencyDigits[currency]; ok {
		return d
	}
	return 2
}

// formatMinor writes minor units as a decimal number in major units, with
// thousands separators when group is set ("12,000.50" or "12000.50").
func formatMinor(minor int64, digits int, group bool) string {
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = uint64(-minor)
	}
	s := strconv.FormatUint(u, 10)
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	intPart, frac := s[:len(s)-digits], s[len(s)-digits:]
	if group {
		var b strings.Builder
		for i, r := range intPart {
			if i > 0 && (len(intPart)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(r)
		}
		intPart = b.String()
	}
	if neg {
		intPart = "-" + intPart
	}
	if digits == 0 {
		return intPart
	}
	return intPart + "." + frac
}

// formatMoney shows an amount with its currency: the yuan sign in Chinese,
// the ISO code otherwise (one code per amount, never a guessed symbol).
func formatMoney(lang string, minor int64, currency string) string {
	num := formatMinor(minor, minorDigits(currency), true)
	if lang == i18n.ZH && currency == "CNY" {
		return "¥" + num
	}
	return currency + " " + num
}

// parseMoney reads an amount typed in major units — "12000", "12,000.50",
// "¥12 000", full-width digits — into minor units. Negative amounts, more
// decimals than the currency has and anything above crm.MaxAmount are
// refused.
func parseMoney(s string, digits int) (int64, bool) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case r == '．' || r == '。':
			b.WriteByte('.')
		case r == ',' || r == '，' || r == ' ' || r == '\u00a0' || r == '_' || r == '¥' || r == '￥':
		default:
			b.WriteRune(r)
		}
	}
	v := b.String()
	intPart, frac, hasDot := strings.Cut(v, ".")
	if intPart == "" && (!hasDot || frac == "") || len(frac) > digits || len(intPart) > 15 {
		return 0, false
	}
	for _, part := range []string{intPart, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, false
			}
		}
	}
	frac += strings.Repeat("0", digits-len(frac))
	n, err := strconv.ParseInt(intPart+frac, 10, 64)
	if intPart+frac == "" {
		n, err = 0, nil
	}
	if err != nil || n > crm.MaxAmount {
		return 0, false
	}
	return n, true
}
