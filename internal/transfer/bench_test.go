package transfer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

const benchRows = 100_000

// contactRows writes benchRows contact-like rows (name, mobile, e-mail,
// company, city, address, note) through w.
func contactRows(b *testing.B, w Writer) {
	b.Helper()
	surnames := []string{"张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴"}
	given := []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "建华"}
	cities := []string{"北京", "上海", "深圳", "成都", "杭州", "武汉"}
	rows := [][]string{{"姓名", "手机", "邮箱", "公司", "城市", "地址", "备注"}}
	for _, r := range rows {
		if err := w.WriteRow(r); err != nil {
			b.Fatal(err)
		}
	}
	for i := range benchRows {
		city := cities[i%len(cities)]
		row := []string{
			surnames[i%len(surnames)] + given[(i/10)%len(given)],
			fmt.Sprintf("138%08d", i),
			fmt.Sprintf("user%d@example.cn", i),
			fmt.Sprintf("%s中铭科技%d有限公司", city, i%5000),
			city,
			fmt.Sprintf("%s市朝阳区建国路%d号", city, i%900),
			"年度采购, 关注\"价格\"",
		}
		if err := w.WriteRow(row); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// readBench reads data to the end b.N times and reports rows per second.
func readBench(b *testing.B, data []byte, name string) {
	b.Helper()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rd, _, err := Open(bytes.NewReader(data), int64(len(data)), name, Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchRows {
			b.Fatalf("read %d rows", n)
		}
		if err := rd.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func csvBytes(b *testing.B) []byte {
	var buf bytes.Buffer
	contactRows(b, NewCSVWriter(&buf, false))
	return buf.Bytes()
}

func BenchmarkReadCSV(b *testing.B) {
	readBench(b, csvBytes(b), "contacts.csv")
}

func BenchmarkReadGBK(b *testing.B) {
	data, err := simplifiedchinese.GBK.NewEncoder().Bytes(csvBytes(b))
	if err != nil {
		b.Fatal(err)
	}
	readBench(b, data, "contacts.csv")
}

func BenchmarkReadXLSX(b *testing.B) {
	var buf bytes.Buffer
	w, err := NewXLSXWriter(&buf, "contacts")
	if err != nil {
		b.Fatal(err)
	}
	contactRows(b, w)
	readBench(b, buf.Bytes(), "contacts.xlsx")
}
