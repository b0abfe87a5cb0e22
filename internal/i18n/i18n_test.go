package i18n

import (
	"testing"

	"custos/internal/crm"
)

// TestCatalogsMatch keeps the two languages complete: a key in one catalog
// must be in the other.
func TestCatalogsMatch(t *testing.T) {
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("zh-CN lacks %q", k)
		}
	}
	for k := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("English lacks %q", k)
		}
	}
}

func TestPickAndMessages(t *testing.T) {
	cases := []struct{ user, accept, want string }{
		{"", "en-US,en;q=0.9", EN},
		{"", "zh-TW,zh;q=0.9", ZH},
		{"", "fr-FR, en;q=0.5", EN},
		{"", "", ZH},
		{"en", "zh-CN", EN},
	}
	for _, c := range cases {
		if got := Pick(c.user, c.accept); got != c.want {
			t.Errorf("Pick(%q, %q) = %q, want %q", c.user, c.accept, got, c.want)
		}
	}
	fe := crm.FieldError{Field: "name", Rule: "too_long", Param: "200"}
	if got := FieldMessage(ZH, fe); got != "名称：过长（最多 200 个字符）" {
		t.Errorf("zh field message: %q", got)
	}
	if got := FieldMessage(EN, fe); got != "Name: is too long (at most 200 characters)" {
		t.Errorf("en field message: %q", got)
	}
	if got := Message(EN, crm.ErrStale()); got != T(EN, "error.stale_version") {
		t.Errorf("stale message: %q", got)
	}
	if got := Message(ZH, errPlain{}); got != "系统内部错误。" {
		t.Errorf("internal errors hide details: %q", got)
	}
}

type errPlain struct{}

func (errPlain) Error() string { return "secret detail" }
