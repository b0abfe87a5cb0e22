package demo

import (
	"testing"
	"unicode/utf8"

	"custos/internal/quality"
)

func TestWordLists(t *testing.T) {
	seen := map[string]string{}
	for _, b := range brands {
		if utf8.RuneCountInString(b.han) != 2 {
			t.Errorf("brand %q is not two characters", b.han)
		}
		if other, ok := seen[b.pinyin]; ok {
			t.Errorf("brands %s and %s share the pinyin %s (e-mail domains would collide)", other, b.han, b.pinyin)
		}
		seen[b.pinyin] = b.han
	}
	codes := map[string]bool{}
	for _, c := range cities {
		if codes[c.code] {
			t.Errorf("city code %s twice", c.code)
		}
		codes[c.code] = true
	}
	codes = map[string]bool{}
	for _, in := range industries {
		if codes[in.code] {
			t.Errorf("industry code %s twice", in.code)
		}
		codes[in.code] = true
	}
}

// TestIdentitiesAreUnique checks what the duplicate check compares: company
// keys, phones, e-mail addresses and credit codes of more records than the
// benchmark data set holds, all valid for the shared normaliser.
func TestIdentitiesAreUnique(t *testing.T) {
	id := newIdentities(1)
	norm := quality.NewNormalizer("CN")
	n := 120_000
	if testing.Short() {
		n = 20_000
	}
	keys := make(map[string]uint64, 2*n)
	phones := make(map[string]bool, 3*n)
	mails := make(map[string]bool, 2*n)
	codes := make(map[string]bool, n)
	for i := range uint64(n) {
		for _, english := range []bool{false, true} {
			if english && i%8 != 0 {
				continue
			}
			cn := id.company(i, english, int(i), 0)
			k := quality.CompanyKey(cn.name)
			if j, dup := keys[k]; dup {
				t.Fatalf("company %d %q has the key of company %d: %q", i, cn.name, j, k)
			}
			keys[k] = i
			if mails[cn.domain] {
				t.Fatalf("domain %s twice", cn.domain)
			}
			mails[cn.domain] = true
		}
		c := cities[i%uint64(len(cities))]
		for _, p := range []string{id.mobile(i*8, 0), id.mobile(i*8+1, 0), id.landline(c, i, 0)} {
			// Parsing is slow; validity is checked on a sample, uniqueness on all.
			if i%97 == 0 {
				if _, err := norm.Phone(p); err != nil {
					t.Fatalf("invalid phone %s", p)
				}
			}
			if phones[p] {
				t.Fatalf("phone %s twice", p)
			}
			phones[p] = true
		}
		m := id.publicMail(i*8, "zhangwei", 0)
		if _, err := quality.Email(m); err != nil || mails[m] {
			t.Fatalf("public mail %s invalid or twice", m)
		}
		mails[m] = true
		code := id.creditCode(c, i, i%2 == 0, 0)
		if _, err := quality.CreditCode(code); i%7 == 0 && err != nil {
			t.Fatalf("credit code %s: %v", code, err)
		}
		if codes[code] {
			t.Fatalf("credit code %s twice", code)
		}
		codes[code] = true
	}
	// A retry after a duplicate gives a different company key.
	a, b := id.company(7, false, 0, 0), id.company(7, false, 0, 1)
	if quality.CompanyKey(a.name) == quality.CompanyKey(b.name) || a.domain == b.domain {
		t.Errorf("retry did not change the identity: %q %q", a.name, b.name)
	}
}

func TestCreditCodeWithCheck(t *testing.T) {
	// A published example code.
	if got := CreditCodeWithCheck("91350100M000100Y4"); got != "91350100M000100Y43" {
		t.Errorf("CreditCodeWithCheck = %s, want 91350100M000100Y43", got)
	}
}
