package transfer

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReadCSV feeds arbitrary bytes to the CSV reader (with small limits so
// the cut and skip paths are reached): it must not panic, must end (each
// Next consumes input, so a file of n bytes gives at most n+1 results), and
// row numbers must increase.
func FuzzReadCSV(f *testing.F) {
	seeds := []string{
		"姓名,手机\n张三,13800138000\n李四,13900139000\n",
		"\xEF\xBB\xBF姓名,手机\r\n张三,13800138000\r\n",
		"\xd0\xd5\xc3\xfb,\xca\xd6\xbb\xfa\n\xd5\xc5\xc8\xfd,13800138000", // GBK
		"姓名;手机\n张三;1\n",
		"姓名\t手机\n张三\t1\n",
		"a,b,c\n1\n\n,,\n1,2,3,4\n",
		"a,b\n1,\"x\ny\"\n2,3\n",
		"a,b\n1,x\"y\n2,z\n",
		"a,b\n1,\"never closed\n2,3\n",
		"a,b\n1,\x00\x01\n",
		"a,b\n1,\xff\xfe\n",
		"a,a\n1,2\n",
		"a,b\n1,0123456789012345678901234567890123456789\n2,y\n",
		"",
		"a,b\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(2))
	}
	encodings := []string{"", "utf-8", "gb18030"}
	f.Fuzz(func(t *testing.T, data []byte, enc uint8) {
		if bytes.HasPrefix(data, zipMagic) || bytes.HasPrefix(data, oleMagic) {
			t.Skip("a workbook, not a CSV")
		}
		opt := Options{Encoding: encodings[int(enc)%len(encodings)], MaxCellBytes: 16, MaxColumns: 4}
		rd, _, err := Open(bytes.NewReader(data), int64(len(data)), "f.csv", opt)
		if err != nil {
			return
		}
		defer rd.Close()
		last := 0
		for i := 0; ; i++ {
			if i > len(data)+1 {
				t.Fatalf("more than %d results from %d bytes", i, len(data))
			}
			row, err := rd.Next()
			line := row.Line
			var re *RowError
			switch {
			case errors.Is(err, io.EOF):
				return
			case errors.As(err, &re):
				line = re.Line
			case err != nil:
				return
			default:
				if len(row.Cells) != len(rd.Header()) {
					t.Fatalf("row of %d cells under a header of %d", len(row.Cells), len(rd.Header()))
				}
			}
			if line <= last {
				t.Fatalf("line %d after line %d", line, last)
			}
			last = line
		}
	})
}
