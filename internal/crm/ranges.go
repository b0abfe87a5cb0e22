package crm

import (
	"slices"
	"time"
)

// The plausible years of a business date or time: an expected close, a due
// time, a follow-up, a custom date. Outside them a value is a typing slip
// (0026 for 2026, 20266 for 2026) or a client bug, and once stored it sorts
// before or after every real record and breaks reports, so it is refused.
const (
	MinYear   = 1900
	MaxYear   = 2200
	YearRange = "1900–2200" // the rule's parameter, shown in messages
)

// CheckDate checks a calendar date in YYYY-MM-DD form and answers the rule
// it breaks: "date" when it is not one, "year_range" when it lies outside
// MinYear–MaxYear, "" when it is fine.
func CheckDate(value string) string {
	d, err := time.Parse(time.DateOnly, value)
	if err != nil {
		return "date"
	}
	return CheckTime(d)
}

// CheckTime answers "year_range" for an instant outside MinYear–MaxYear
// (read in UTC, so a time zone cannot move it across the edge), else "".
func CheckTime(t time.Time) string {
	if y := t.UTC().Year(); y < MinYear || y > MaxYear {
		return "year_range"
	}
	return ""
}

// IsCurrency reports whether code is an ISO 4217 currency code Custos
// accepts for money (see currencies).
func IsCurrency(code string) bool {
	_, ok := slices.BinarySearch(currencies, code)
	return ok
}

// currencies are the ISO 4217 codes of currencies a deal can be priced in
// (list one as of 2026, sorted), without the fund codes (BOV, CHE, CLF, …),
// precious metals, SDRs and the testing and "no currency" codes (XTS, XXX),
// none of which is money an opportunity is worth. Codes withdrawn since 2020
// (HRK, SLL, ZWL, CUC, ANG, BGN) stay valid so older opportunities remain
// editable. The list lives here rather than in golang.org/x/text/currency
// because the domain imports only the standard library; a test checks every
// code against that package.
var currencies = []string{
	"AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN",
	"BAM", "BBD", "BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
	"CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUC", "CUP", "CVE", "CZK",
	"DJF", "DKK", "DOP", "DZD",
	"EGP", "ERN", "ETB", "EUR",
	"FJD", "FKP",
	"GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD",
	"HKD", "HNL", "HRK", "HTG", "HUF",
	"IDR", "ILS", "INR", "IQD", "IRR", "ISK",
	"JMD", "JOD", "JPY",
	"KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
	"LAK", "LBP", "LKR", "LRD", "LSL", "LYD",
	"MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN",
	"NAD", "NGN", "NIO", "NOK", "NPR", "NZD",
	"OMR",
	"PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",
	"QAR",
	"RON", "RSD", "RUB", "RWF",
	"SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL",
	"THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS",
	"UAH", "UGX", "USD", "UYU", "UZS",
	"VED", "VES", "VND", "VUV",
	"WST",
	"XAF", "XCD", "XCG", "XOF", "XPF",
	"YER",
	"ZAR", "ZMW", "ZWG", "ZWL",
}
