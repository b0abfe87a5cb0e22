package service

import "testing"

// TestGarbled: what a legacy encoding leaves of a name is refused; a "?"
// typed in free text or between Latin letters is not.
func TestGarbled(t *testing.T) {
	for _, c := range []struct {
		s       string
		oneLine bool
		want    bool
	}{
		{"?京?成科技", true, true},
		{"张?", true, true},
		{"北京\uFFFD科技", false, true},
		{"客户问价格?", false, false},
		{"Who? Ltd", true, false},
		{"北京大成科技", true, false},
		{"", true, false},
	} {
		if got := garbled(c.s, c.oneLine); got != c.want {
			t.Errorf("garbled(%q, %v) = %v, want %v", c.s, c.oneLine, got, c.want)
		}
	}
}
