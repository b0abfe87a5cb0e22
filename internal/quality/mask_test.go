package quality

import "testing"

func TestMask(t *testing.T) {
	n := NewNormalizer("CN")
	for _, c := range []struct{ kind, in, want string }{
		{"phone", "+8613812345678", "138****5678"},
		{"phone", "+861012345678", "101***5678"},
		{"phone", "+442079460958", "+44 207***0958"},
		{"email", "zhang.wei@example.com", "z***@example.com"},
		{"email", "张伟@例子.中国", "张***@例子.中国"},
		{"id", "110101199003071234", "1101**********1234"},
		{"id", "91350100M000100Y43", "9135**********0Y43"},
		{"name", "张伟", "张*"},
		{"name", "欧阳娜娜", "欧***"},
		{"name", "John Smith", "J*** S****"},
		{"name", "李", "李*"},
		{"text", "wxid_abc123", "w*********3"},
		{"text", "ab", "**"},
		{"", "anything", "****"},
		{"phone", "", ""},
	} {
		if got := n.Mask(c.kind, c.in); got != c.want {
			t.Errorf("Mask(%q, %q) = %q, want %q", c.kind, c.in, got, c.want)
		}
	}
}
