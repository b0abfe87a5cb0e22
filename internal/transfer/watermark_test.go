package transfer

import (
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
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

// TestMarksSurviveGBK: beside Chinese text every form the fingerprint
// writes is a character of GBK, so a copy Excel or WPS saves as "CSV" on a
// Chinese Windows keeps each mark and turns no value into '?'; a
// parenthesis pair takes one form together.
func TestMarksSurviveGBK(t *testing.T) {
	enc := simplifiedchinese.GBK.NewEncoder()
	cells := []string{"阿里巴巴(中国)有限公司", "北京市朝阳区建国路88号5层", "年度采购,关注价格;下周三回访!", "华为 Mate 60 采购",
		"2026年3月签约", "上海 大 华", "（北京）大成科技有限公司"}
	wide := 0
	for k := range 16 {
		f := NewFingerprint([]byte{byte(k)})
		for _, cell := range cells {
			marked := f.Mark(cell)
			if norm.NFKC.String(marked) != norm.NFKC.String(cell) {
				t.Errorf("Mark(%q) = %q: NFKC differs", cell, marked)
			}
			if _, err := enc.String(marked); err != nil {
				t.Errorf("Mark(%q) = %q: not GBK: %v", cell, marked, err)
			}
			open, shut := strings.ContainsRune(marked, '（'), strings.ContainsRune(marked, '）')
			if strings.ContainsAny(cell, "(（") && open != shut {
				t.Errorf("Mark(%q) = %q: a parenthesis pair in two forms", cell, marked)
			}
			if strings.ContainsRune(marked, '８') {
				wide++
			}
		}
	}
	if wide == 0 || wide == 16 {
		t.Errorf("the digit run took one form under every key (%d of 16 wide)", wide)
	}
	// Digits that are a number of their own, not part of Chinese text, are left alone.
	for _, cell := range []string{"电话13800138000", "No. 12 North Road", "12345号"} {
		if got := NewFingerprint([]byte("k")).Mark(cell); got != cell && norm.NFKC.String(got) == cell && strings.ContainsAny(got, "０１２３４５６７８９") {
			t.Errorf("Mark(%q) = %q: a long or Latin number was marked", cell, got)
		}
	}
}
