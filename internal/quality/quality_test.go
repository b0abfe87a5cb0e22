package quality

import (
	"errors"
	"slices"
	"testing"
)

func TestPhone(t *testing.T) {
	tests := []struct {
		name   string
		region string
		raw    string
		want   string
		err    error
	}{
		{"cn mobile with spaces", "", "138 0013 8000", "+8613800138000", nil},
		{"cn mobile with dashes", "", "138-0013-8000", "+8613800138000", nil},
		{"cn mobile full-width", "", "１３８００１３８０００", "+8613800138000", nil},
		{"cn mobile +86", "", "+86 138 0013 8000", "+8613800138000", nil},
		{"cn mobile full-width +86", "", "＋８６（１３８）００１３８０００", "+8613800138000", nil},
		{"cn mobile 0086", "", "0086 13800138000", "+8613800138000", nil},
		{"beijing landline", "", "010-6552 9988", "+861065529988", nil},
		{"us number from cn", "CN", "+1 650 253 0000", "+16502530000", nil},
		{"us national from us", "US", "(650) 253-0000", "+16502530000", nil},
		{"lower-case region", "us", "(650) 253-0000", "+16502530000", nil},
		{"cn mobile +86 from us", "US", "+86 138 0013 8000", "+8613800138000", nil},
		{"too short", "", "12345", "", ErrInvalidPhone},
		{"mobile one digit short", "", "1380013800", "", ErrInvalidPhone},
		{"letters", "", "not a phone", "", ErrInvalidPhone},
		{"empty", "", "", "", ErrInvalidPhone},
		{"blank", "", "   ", "", ErrInvalidPhone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewNormalizer(tt.region).Phone(tt.raw)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("Phone(%q) = %q, %v; want %q, %v", tt.raw, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestNewNormalizerDefaultRegion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "CN"},
		{"US", "US"},
		{"gb", "GB"},
	}
	for _, tt := range tests {
		if got := NewNormalizer(tt.in).DefaultRegion(); got != tt.want {
			t.Errorf("NewNormalizer(%q).DefaultRegion() = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestEmail(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string
		err  error
	}{
		{"plain", "zhang.wei@example.cn", "zhang.wei@example.cn", nil},
		{"upper case and spaces", "  Zhang.Wei@Example.COM ", "zhang.wei@example.com", nil},
		{"full-width at", "zhang＠example.com", "zhang@example.com", nil},
		{"full-width letters", "ＺＨＡＮＧ＠ｅｘａｍｐｌｅ．ｃｏｍ", "zhang@example.com", nil},
		{"plus tag", "li+crm@mail.example.org", "li+crm@mail.example.org", nil},
		{"display name", "Zhang Wei <zhang@example.com>", "", ErrInvalidEmail},
		{"angle brackets", "<zhang@example.com>", "", ErrInvalidEmail},
		{"no dot in domain", "zhang@localhost", "", ErrInvalidEmail},
		{"no at", "zhang.example.com", "", ErrInvalidEmail},
		{"two addresses", "a@example.com, b@example.com", "", ErrInvalidEmail},
		{"empty", "", "", ErrInvalidEmail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Email(tt.raw)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("Email(%q) = %q, %v; want %q, %v", tt.raw, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestCompanyKey(t *testing.T) {
	tests := []struct {
		raw  string
		want string
	}{
		// The place is kept by its short name (深圳市 → 深圳).
		{"深圳市腾讯计算机系统有限公司", "深圳腾讯计算机系统"},
		{"深圳市腾讯计算机系统 有限公司", "深圳腾讯计算机系统"},
		{"深圳市腾讯计算机系统有限责任公司", "深圳腾讯计算机系统"},
		// Traditional characters are not converted: only the trailing 公司 is recognised.
		{"深圳市腾讯计算机系统有限責任公司", "深圳腾讯计算机系统有限責任"},
		{"华为技术有限公司", "华为技术"},
		{"华为终端有限公司", "华为终端"},
		{"中国平安保险（集团）股份有限公司", "中国平安保险集团"},
		{"中国平安保险(集团)股份有限公司", "中国平安保险集团"},
		{"海尔集团有限公司", "海尔集团"},
		{"海尔集团", "海尔集团"},
		{"海尔集团公司", "海尔集团"},
		{"ACME Co., Ltd.", "acme"},
		{"Acme Inc", "acme"},
		{"ＡＣＭＥ", "acme"},
		{"Acme Company Limited", "acme"},
		{"Acme Widgets GmbH", "acmewidgets"},
		{"Costco", "costco"},
		{"Zinc Corp.", "zinc"},
		{"有限公司", "有限公司"},
		{"Ltd", "ltd"},
		{"Co., Ltd.", "coltd"},
		{"", ""},
		{" （ ）-. ", ""},
	}
	for _, tt := range tests {
		if got := CompanyKey(tt.raw); got != tt.want {
			t.Errorf("CompanyKey(%q) = %q; want %q", tt.raw, got, tt.want)
		}
	}
}

func TestCompanyKeyDistinct(t *testing.T) {
	tests := []struct{ a, b string }{
		{"华为技术有限公司", "华为终端有限公司"},
		{"海尔集团有限公司", "海尔有限公司"},
		{"Acme Co", "Acme Corp Asia"},
	}
	for _, tt := range tests {
		if CompanyKey(tt.a) == CompanyKey(tt.b) {
			t.Errorf("CompanyKey(%q) == CompanyKey(%q) = %q; want different", tt.a, tt.b, CompanyKey(tt.a))
		}
	}
}

func TestCreditCode(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string
		err  error
	}{
		{"published real code", "91350100M000100Y43", "91350100M000100Y43", nil},
		{"computed letter check", "91110000600037341L", "91110000600037341L", nil},
		{"computed check 31 becomes 0", "121000004000000010", "121000004000000010", nil},
		{"lower case and spaces", " 91350100m000100y43 ", "91350100M000100Y43", nil},
		{"full-width", "９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43", nil},
		{"one character changed", "91350100M000100Y44", "", ErrInvalidCreditCode},
		{"body character changed", "91350100M000200Y43", "", ErrInvalidCreditCode},
		{"length 17", "91350100M000100Y4", "", ErrInvalidCreditCode},
		{"length 19", "91350100M000100Y430", "", ErrInvalidCreditCode},
		{"letter I", "91350100I000100Y43", "", ErrInvalidCreditCode},
		{"letter O", "91350100O000100Y43", "", ErrInvalidCreditCode},
		{"empty", "", "", ErrInvalidCreditCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CreditCode(tt.raw)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("CreditCode(%q) = %q, %v; want %q, %v", tt.raw, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestSearchTerms(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"张伟", []string{"张伟"}},
		{"张", []string{"张"}},
		{"北京科技有限公司", []string{"北京", "京科", "科技", "技有", "有限", "限公", "公司"}},
		{"Acme 科技 Ltd", []string{"acme", "科技", "ltd"}},
		{"ＡＣＭＥ科技Ltd.", []string{"acme", "科技", "ltd"}},
		// Spaces inside Chinese text do not separate (a name typed "张 伟").
		{"张 伟", []string{"张伟"}},
		{"张\n伟", []string{"张", "伟"}},
		{"科技, 科技 acme ACME", []string{"科技", "acme"}},
		{"tel: 138-0013-8000", []string{"tel", "138", "0013", "8000"}},
		{"", nil},
		{" ,.；", nil},
	}
	for _, tt := range tests {
		if got := SearchTerms(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("SearchTerms(%q) = %q; want %q", tt.text, got, tt.want)
		}
	}
}
