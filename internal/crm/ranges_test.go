package crm

import (
	"slices"
	"testing"
	"time"

	"golang.org/x/text/currency"
)

// TestCurrencies keeps the list honest: sorted (IsCurrency searches it),
// every code known to golang.org/x/text/currency except those its tables
// still lack (Mauritania's and Venezuela's of 2018, those of 2021 and later),
// and the non-money codes
// that package accepts refused here.
func TestCurrencies(t *testing.T) {
	if !slices.IsSorted(currencies) {
		t.Fatal("currencies must be sorted")
	}
	newer := []string{"MRU", "SLE", "VED", "VES", "XCG", "ZWG"}
	for _, c := range currencies {
		if _, err := currency.ParseISO(c); err != nil && !slices.Contains(newer, c) {
			t.Errorf("%s is not an ISO 4217 code: %v", c, err)
		}
	}
	for _, c := range []string{"CNY", "USD", "EUR", "JPY", "HKD", "XCG"} {
		if !IsCurrency(c) {
			t.Errorf("%s refused", c)
		}
	}
	for _, c := range []string{"ZZZ", "XXX", "XTS", "XAU", "DEM", "cny", "RMB", "", "CNYY"} {
		if IsCurrency(c) {
			t.Errorf("%q accepted", c)
		}
	}
}

func TestDateRanges(t *testing.T) {
	cases := []struct{ date, want string }{
		{"2026-01-31", ""}, {"1900-01-01", ""}, {"2200-12-31", ""},
		{"0001-01-01", "year_range"}, {"1899-12-31", "year_range"}, {"2201-01-01", "year_range"},
		{"2026-02-30", "date"}, {"26-01-31", "date"}, {"", "date"},
	}
	for _, c := range cases {
		if got := CheckDate(c.date); got != c.want {
			t.Errorf("CheckDate(%q) = %q, want %q", c.date, got, c.want)
		}
	}
	// A time zone does not move an instant across the edge.
	edge := time.Date(2201, 1, 1, 7, 0, 0, 0, time.FixedZone("CST", 8*3600))
	if CheckTime(edge) != "" {
		t.Error("2201-01-01 07:00+08:00 is still 2200 in UTC")
	}
	var p Problems
	p.Date("expected_close_date", "0001-01-01", false)
	if len(p) != 1 || p[0].Rule != "year_range" || p[0].Param != YearRange {
		t.Errorf("Problems.Date: %+v", p)
	}
}
