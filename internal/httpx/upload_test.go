package httpx_test

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"

	"custos/internal/crm"
	"custos/internal/httpx"
)

// TestReadPartsLimit: a body with no declared length (chunked) is cut at
// the limit while it is read, and refused as too large naming the file;
// within the limit the fields and the file come out whole.
func TestReadPartsLimit(t *testing.T) {
	body := func(file string) ([]byte, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("options", `{"object":"customer"}`)
		fw, _ := mw.CreateFormFile("file", "a.csv")
		fw.Write([]byte(file))
		mw.Close()
		return buf.Bytes(), mw.FormDataContentType()
	}
	read := func(file string, limit int64) (string, string, error) {
		b, ct := body(file)
		r := httptest.NewRequest("POST", "/", bytes.NewReader(b))
		r.ContentLength = -1 // as a chunked upload declares nothing
		r.Header.Set("Content-Type", ct)
		mr, err := httpx.MultipartReader(httptest.NewRecorder(), r, limit)
		if err != nil {
			return "", "", err
		}
		fields, up, err := httpx.ReadParts(mr, "file", limit)
		if err != nil {
			return "", "", err
		}
		defer up.Close()
		got := make([]byte, up.Size)
		up.ReadAt(got, 0)
		return fields.Get("options"), string(got), nil
	}
	opts, file, err := read("名称\n甲\n", 4096)
	if err != nil || opts != `{"object":"customer"}` || file != "名称\n甲\n" {
		t.Fatalf("within the limit: %q %q %v", opts, file, err)
	}
	_, _, err = read(strings.Repeat("x", 10000), 4096)
	var ce *crm.Error
	if !errors.As(err, &ce) || ce.Code != crm.TooLarge || ce.Fields[0].Field != "file" {
		t.Fatalf("over the limit: %v", err)
	}
	// Past 8 MB the file goes to an unlinked temporary file, read back whole.
	big := strings.Repeat("行,", 3<<20)
	if _, file, err := read(big, 16<<20); err != nil || file != big {
		t.Fatalf("a large file: %d bytes back of %d, %v", len(file), len(big), err)
	}
}
