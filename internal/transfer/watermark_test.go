package transfer

import (
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestMarkKeepsMeaning(t *testing.T) {
	fp := NewFingerprint([]byte("k1"))
	for _, cell := range []string{"Acme Trading Co", "北京大山科技有限公司", "张文 李明", "2026-01-02 15:04", "+8613800138000", "", "=SUM(A1)"} {
		marked := fp.Mark(cell)
		if norm.NFKC.String(marked) != norm.NFKC.String(strings.TrimSpace(cell)) {
			t.Errorf("Mark(%q) = %q: NFKC differs", cell, marked)
		}
	}
	if got := fp.Mark("2026-01-02 15:04"); got != "2026-01-02 15:04" {
		t.Errorf("a date's space carried a mark: %q", got)
	}
}

func TestMarksTellExportsApart(t *testing.T) {
	a, b := NewFingerprint([]byte("export a")), NewFingerprint([]byte("export b"))
	var cells []string
	for i := range 20 {
		cells = append(cells, "Customer "+string(rune('A'+i))+" Trading Co", "北京市海淀区大钟寺路"+string(rune('0'+i%10))+"号")
	}
	m := NewMarks()
	for _, c := range cells {
		m.Observe([]string{a.Mark(c)})
	}
	n, agreeA := a.Score(m)
	_, agreeB := b.Score(m)
	if n < 40 || agreeA != n {
		t.Fatalf("own fingerprint: %d of %d agree", agreeA, n)
	}
	if ChanceAgreement(n, agreeB) < 1e-3 {
		t.Fatalf("another fingerprint agrees %d of %d", agreeB, n)
	}
	if ChanceAgreement(n, agreeA) > 1e-9 {
		t.Fatalf("chance of %d/%d = %g", agreeA, n, ChanceAgreement(n, agreeA))
	}
}

// BenchmarkTraceScore is what a trace costs per export compared: a file's
// distinct cells (at most 400) checked against one fingerprint.
func BenchmarkTraceScore(b *testing.B) {
	fp := NewFingerprint([]byte("the export"))
	m := NewMarks()
	for i := range 1000 {
		m.Observe([]string{fp.Mark("Harbor View " + strconv.Itoa(i) + " Trading Co"), fp.Mark("No. " + strconv.Itoa(i) + " North Lake Road 北京市大兴区")})
	}
	other := NewFingerprint([]byte("another export"))
	b.ResetTimer()
	for b.Loop() {
		other.Score(m)
	}
}

// BenchmarkMark is the cost of marking one cell as an export writes it.
func BenchmarkMark(b *testing.B) {
	fp := NewFingerprint([]byte("the export"))
	for b.Loop() {
		fp.Mark("北京大山科技有限公司 Harbor View Trading Co")
	}
}

// TestUnmark: every form the fingerprint writes reads back as its plain
// character, and a cell without one is returned as it is.
func TestUnmark(t *testing.T) {
	f := NewFingerprint([]byte("0123456789abcdef0123456789abcdef"))
	for _, cell := range []string{"北京大成科技有限公司", "Zhang Wei Trading Co", "上海 大 华", "13800001111", ""} {
		marked := f.Mark(cell)
		if got := Unmark(marked); got != cell {
			t.Errorf("Unmark(Mark(%q)) = %q", cell, got)
		}
	}
	if got := Unmark("⼤\u00a0北"); got != "大 北" {
		t.Errorf("Unmark of twins: %q", got)
	}
}
